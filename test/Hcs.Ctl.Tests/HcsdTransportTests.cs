// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text.Json;
using Hcs.Schema;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>
/// hcsctl through the real daemon transport: an in-process <see cref="Hcs.Daemon.DaemonServer"/> over an engine with
/// the fake backend, every invocation run as <c>hcsctl --socket PATH ...</c> (the verb suites run over it too: the
/// <c>*OverHcsdTests</c> classes).
/// </summary>
public sealed class HcsdTransportTests : IAsyncLifetime
{
    private CtlHarness _ctl = null!;

    public async ValueTask InitializeAsync() => _ctl = await CtlHarness.StartAsync(CtlTransport.Hcsd);

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    [Fact]
    public async Task CreateFromAFile_Start_List_Inspect_OverHcsd_SeeTheSameRunningSystem()
    {
        Assert.NotNull(_ctl.Socket);
        var path = _ctl.File("c1.json", CtlHarness.ContainerDocument);
        Assert.Equal("", await _ctl.OkAsync("create", "c1", path));
        Assert.Equal(SystemState.Created, await _ctl.StateAsync("c1")); // outlived the invocation's session

        Assert.Equal("", await _ctl.OkAsync("start", "c1"));
        Assert.Equal(SystemState.Running, await _ctl.StateAsync("c1"));

        using (var list = JsonDocument.Parse(await _ctl.OkAsync("list", "--json")))
        {
            var system = Assert.Single(list.RootElement.EnumerateArray());
            Assert.Equal("c1", system.GetProperty("Id").GetString());
            Assert.Equal("Running", system.GetProperty("State").GetString());
            Assert.Equal("Container", system.GetProperty("SystemType").GetString());
        }

        var table = (await _ctl.OkAsync("list")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^c1\s{3,}Container\s{3,}Running\s{3,}tests\s{3,}\d+s$", table[1]);

        using (var inspect = JsonDocument.Parse(await _ctl.OkAsync("inspect", "c1", "--type", "Statistics")))
        {
            Assert.Equal("c1", inspect.RootElement.GetProperty("Id").GetString());
            Assert.Equal("Running", inspect.RootElement.GetProperty("State").GetString());
            Assert.True(inspect.RootElement.TryGetProperty("Statistics", out _));
        }
    }

    [Fact]
    public async Task Exec_OverHcsd_CopiesStdoutAndStderr_AndPropagatesTheExitCode()
    {
        await _ctl.ContainerAsync("c1");
        var result = await _ctl.RunAsync("exec", "c1", "sh", "-c", "echo out; echo err >&2; exit 7");
        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Equal("out\n", result.Out);
        Assert.Equal("err\n", result.Error);

        var piped = await _ctl.RunWithInputAsync("through the socket\n", "exec", "-i", "c1", "cat");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("through the socket\n", piped.Out);
        Assert.Equal(1, (await _ctl.RunAsync("exec", "c1", "false")).ExitCode);
    }

    [Fact]
    public async Task Events_ForAnId_OverHcsd_ShowsSystemExited_AfterATerminate()
    {
        await _ctl.ContainerAsync("c1");
        await _ctl.ContainerAsync("c2");
        var subscribed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = _ctl.RunAsync("", id => subscribed.TrySetResult(), ["events", "--timeout", "30s", "c1"]);
        await Task.WhenAny(subscribed.Task, run).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(run.IsCompleted, run.IsCompleted ? (await run).ToString() : "");

        await _ctl.OkAsync("terminate", "c2", "c1");
        var result = await run;
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, result.ToString());
        var line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^\S+  c1  SystemExited  \{.*""ExitType"":""ForcedExit"".*\}$", line);
    }

    [Theory]
    [InlineData("inspect")]
    [InlineData("start")]
    [InlineData("terminate")]
    public async Task UnknownId_OverHcsd_IsOneLineWithTheHResultName_AndExitCode1(string verb)
    {
        var result = await _ctl.RunAsync(verb, "nope");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Out);
        Assert.Equal($"hcsctl: {verb} nope: HCS_E_SYSTEM_NOT_FOUND (0x8037010E): A virtual machine or container with the specified identifier does not exist.\n", result.Error);
    }

    [Fact]
    public async Task Socket_WhereNothingListens_IsExitCode3_NamingTheSocket_WithAHint()
    {
        var missing = Path.Combine(_ctl.TempDirectory, "no-such.sock");
        await AssertNoDaemonAsync(missing);

        // A socket file left behind by a daemon that died: it exists, but connecting is refused. (.NET unlinks the
        // path it bound when the socket closes, so the file is moved away from that path first.)
        var stale = Path.Combine(_ctl.TempDirectory, "stale.sock");
        var bound = Path.Combine(_ctl.TempDirectory, "bound.sock");
        using (var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            listener.Bind(new UnixDomainSocketEndPoint(bound));
            File.Move(bound, stale);
        }

        Assert.True(File.Exists(stale));
        await AssertNoDaemonAsync(stale);
    }

    [Fact]
    public async Task Hcsd_Stopped_NextInvocationIsExitCode3_WithAHint()
    {
        await _ctl.ContainerAsync("c1");
        var socket = _ctl.Socket!;
        await _ctl.StopServiceAsync();
        await AssertNoDaemonAsync(socket);
    }

    private static async Task AssertNoDaemonAsync(string socket)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await HcsCtl.RunAsync(["--socket", socket, "list"], TextReader.Null, output, error, Client.HcsClient.Connect)
            .WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 3, $"exit {code}: {error}");
        Assert.Equal("", output.ToString());
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("hcsctl: list: HCS_E_SERVICE_DISCONNECT (0x8037011E): ", line, StringComparison.Ordinal);
        Assert.True(line.Contains(socket, StringComparison.Ordinal), line);
        Assert.EndsWith("(is hcsd running? --embedded runs an engine inside hcsctl instead)", line, StringComparison.Ordinal);
    }
}
