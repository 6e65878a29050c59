// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text;

namespace Hcs.Shim.Tests;

/// <summary>hcs-shim's own parsers: the monitor's command line, runc's JSON log, an OCI process spec's console size.</summary>
public sealed class ShimUnitTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-shim-units-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ParseMonitor_TakesEveryOption_AndMakesPathsAbsolute()
    {
        var options = Program.ParseMonitor(["--id", "c1", "--bundle", "b", "--runc", "runc", "--runc-root", "/run/r", "--state", "/run/s/../s2"]);
        Assert.Equal(new MonitorOptions("c1", Path.GetFullPath("b"), "runc", "/run/r", "/run/s2"), options);
    }

    [Theory]
    [InlineData("--id", "c1", "--bundle", "/b", "--runc", "/r", "--runc-root", "/rr")] // no --state
    [InlineData("--id", "c1", "--bundle", "/b", "--runc", "/r", "--runc-root", "/rr", "--state")] // a flag without its value
    [InlineData("--id", "c1", "--bundle", "/b", "--runc", "/r", "--runc-root", "/rr", "--state", "/s", "--debug", "1")] // unknown
    [InlineData()]
    public void ParseMonitor_RefusesIncompleteOrUnknownOptions(params string[] args)
    {
        Assert.Null(Program.ParseMonitor(args));
    }

    [Fact]
    public void LastRuncError_IsTheMessageOfTheLastErrorRecord_SkippingOtherLevelsAndTornLines()
    {
        var log = Path.Combine(_dir, "runc.log");
        File.WriteAllLines(log,
        [
            "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}",
            "{\"level\":\"warning\",\"msg\":\"a warning\",\"time\":\"t\"}",
            "{\"level\":\"error\",\"msg\":\"exec: \\\"nope\\\": executable file not found in $PATH\",\"time\":\"t\"}",
            "plain text from a child",
            "{\"level\":\"error\",\"msg\":",
            "{\"level\":\"info\",\"msg\":\"later\"}",
            "",
        ]);
        Assert.Equal("exec: \"nope\": executable file not found in $PATH", RuncFiles.LastRuncError(log));
    }

    [Fact]
    public void LastRuncError_IsNull_WithoutAnErrorRecordOrAFile()
    {
        var log = Path.Combine(_dir, "quiet.log");
        File.WriteAllText(log, "{\"level\":\"info\",\"msg\":\"fine\"}\n{\"level\":\"error\",\"msg\":3}\n");
        Assert.Null(RuncFiles.LastRuncError(log));
        Assert.Null(RuncFiles.LastRuncError(Path.Combine(_dir, "missing.log")));
    }

    [Theory]
    [InlineData("{\"args\":[\"sh\"],\"consoleSize\":{\"height\":40,\"width\":120}}", 40, 120)]
    [InlineData("{\"consoleSize\":{\"width\":80,\"height\":25,\"extra\":1}}", 25, 80)]
    public void ConsoleSize_IsReadFromTheProcessSpec(string spec, int rows, int cols)
    {
        var path = Path.Combine(_dir, "process.json");
        File.WriteAllText(path, spec);
        Assert.Equal(((ushort)rows, (ushort)cols), RuncFiles.ConsoleSize(path));
    }

    [Theory]
    [InlineData("{\"args\":[\"sh\"]}")]
    [InlineData("{\"consoleSize\":{\"height\":-1,\"width\":120}}")]
    [InlineData("{\"consoleSize\":{\"height\":70000,\"width\":120}}")]
    [InlineData("{\"consoleSize\":[40,120]}")]
    [InlineData("not json")]
    public void ConsoleSize_IsNull_WhenAbsentOrInvalid(string spec)
    {
        var path = Path.Combine(_dir, "process.json");
        File.WriteAllText(path, spec);
        Assert.Null(RuncFiles.ConsoleSize(path));
    }

    [Fact]
    public void ConsoleSize_IsNull_WithoutAFile() => Assert.Null(RuncFiles.ConsoleSize(Path.Combine(_dir, "none.json")));
}

/// <summary>The control connection's framing: lines in, lines out in order, the 1 MiB limit, a flushing close.</summary>
public sealed class ControlConnectionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-shim-conn-").FullName;
    private readonly Socket _listener;

    public ControlConnectionTests()
    {
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path.Combine(_dir, "s")));
        _listener.Listen(1);
    }

    public void Dispose()
    {
        _listener.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Lines_AreSplitOnNewlines_WhateverTheWrites_AndEmptyLinesAreSkipped()
    {
        var (client, connection) = await PairAsync();
        using var _ = client;
        var lines = new List<string>();
        var reading = connection.ReadLinesAsync(line => lines.Add(Encoding.UTF8.GetString(line.Span)));
        await client.SendAsync("{\"a\":1}\n{\"b\""u8.ToArray(), SocketFlags.None);
        await client.SendAsync(":2}\n\n\n"u8.ToArray(), SocketFlags.None);
        await client.SendAsync("{\"c\":\"é"u8.ToArray(), SocketFlags.None);
        await client.SendAsync("\"}\n{\"unterminated\":0}"u8.ToArray(), SocketFlags.None);
        client.Shutdown(SocketShutdown.Send);
        await reading.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["{\"a\":1}", "{\"b\":2}", "{\"c\":\"é\"}"], lines); // a last line without its newline is not a request
        connection.Abort();
    }

    [Fact]
    public async Task ALineLongerThan1MiB_EndsTheConnection()
    {
        var (client, connection) = await PairAsync();
        using var _ = client;
        var lines = new List<int>();
        var reading = connection.ReadLinesAsync(line => lines.Add(line.Length));
        var small = Enumerable.Repeat((byte)'x', 1000).Append((byte)'\n').ToArray();
        await client.SendAsync(small, SocketFlags.None);
        var sending = Task.Run(async () =>
        {
            try
            {
                await client.SendAsync(Enumerable.Repeat((byte)'y', (1 << 20) + 1).ToArray(), SocketFlags.None);
            }
            catch (SocketException)
            {
                // The shim closed first.
            }
        });
        await reading.WaitAsync(TimeSpan.FromSeconds(10)); // returns without the client closing
        Assert.Equal([1000], lines);
        connection.Abort();
        await sending.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Sent_LinesArriveInOrder_AndCloseFlushesThemBeforeEof()
    {
        var (client, connection) = await PairAsync();
        using var _ = client;
        for (var i = 0; i < 200; i++)
        {
            connection.Send(Encoding.UTF8.GetBytes($"{{\"id\":{i}}}\n"));
        }

        await connection.CloseAsync(TimeSpan.FromSeconds(10));
        connection.Send("{\"late\":true}\n"u8.ToArray()); // dropped: the connection is closed
        using var stream = new NetworkStream(client);
        using var reader = new StreamReader(stream);
        var received = new List<string>();
        while (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)) is { } line)
        {
            received.Add(line);
        }

        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"{{\"id\":{i}}}"), received);
    }

    private async Task<(Socket Client, ControlConnection Connection)> PairAsync()
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accepting = _listener.AcceptAsync();
        await client.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(_dir, "s")));
        return (client, new ControlConnection(await accepting));
    }
}
