// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Hcs.Shim.Protocol;

namespace Hcs.Shim.Tests;

/// <summary>The published <c>artifacts/shim/hcs-shim</c> (./build.sh publishes it before the tests run).</summary>
internal static class ShimBinary
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    /// <summary>The binary's path; the test is skipped, saying why, when it has not been published.</summary>
    public static string Path
    {
        get
        {
            Requires.Shim();
            return Repository.Path("artifacts", "shim", "hcs-shim");
        }
    }

    /// <summary>Runs hcs-shim with <paramref name="args"/> to its end: exit code, stdout, stderr.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Path) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Bound);
        return (process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>
/// One <c>hcs-shim monitor</c> with a stand-in for runc (a shell script, so no root and no real container): its
/// <c>create</c> starts an "init" (a shell that says ready, and exits 0 on SIGTERM); its <c>exec -d</c> runs the process
/// spec file as a shell script, with the stdio the monitor gave runc. Both write the pid file and exit at once, as runc
/// does, so the monitor (a child subreaper) inherits the process and reports its exit.
/// </summary>
internal sealed class MonitorHarness : IAsyncDisposable
{
    private const string FakeRunc = """
        #!/bin/sh
        log= pidfile= spec= verb=
        while [ $# -gt 0 ]; do
          case "$1" in
            --log) log=$2; shift 2 ;;
            --pid-file) pidfile=$2; shift 2 ;;
            --process) spec=$2; shift 2 ;;
            --root|--log-format|--bundle|--console-socket) shift 2 ;;
            create|exec) verb=$1; shift ;;
            --) break ;;
            *) shift ;;
          esac
        done
        fail() { printf '{"level":"error","msg":"%s","time":"2026-12-07T00:00:00Z"}\n' "$1" >> "$log"; exit 1; }
        case "$verb" in
          create)
            [ -n "$FAKE_RUNC_CREATE_ERROR" ] && fail "$FAKE_RUNC_CREATE_ERROR"
            sh -c 'trap "kill \$s 2>/dev/null; exit 0" TERM; echo ready; exec >/dev/null; while :; do sleep 1 & s=$!; wait $s; done' &
            echo $! > "$pidfile" ;;
          exec)
            first=$(head -n 1 "$spec")
            case "$first" in "#fail "*) fail "${first#\#fail }" ;; esac
            sh "$spec" <&0 &
            echo $! > "$pidfile" ;;
        esac
        exit 0
        """;

    private readonly Process _process;
    private int _specs;

    private MonitorHarness(string root, Process process, MonitorStarted started)
    {
        Root = root;
        _process = process;
        Started = started;
    }

    public string Root { get; }

    public string State => Path.Combine(Root, "state");

    public string Socket => Path.Combine(State, ShimProtocol.SocketName);

    /// <summary>The start line the monitor wrote.</summary>
    public MonitorStarted Started { get; }

    public int InitPid => Started.InitPid ?? throw new InvalidOperationException("not ready");

    public Process Process => _process;

    public static async Task<MonitorHarness> StartAsync(string? createError = null)
    {
        var shim = ShimBinary.Path;
        var root = Directory.CreateTempSubdirectory("hcs-shim-monitor-").FullName;
        var runc = Path.Combine(root, "runc");
        await File.WriteAllTextAsync(runc, FakeRunc.Replace("\r", "", StringComparison.Ordinal) + "\n");
        File.SetUnixFileMode(runc, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        foreach (var dir in (string[])["state", "bundle", "runc-root"])
        {
            Directory.CreateDirectory(Path.Combine(root, dir));
        }

        var start = new ProcessStartInfo(shim) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in (string[])["monitor", "--id", "c1", "--bundle", Path.Combine(root, "bundle"), "--runc", runc,
            "--runc-root", Path.Combine(root, "runc-root"), "--state", Path.Combine(root, "state")])
        {
            start.ArgumentList.Add(arg);
        }

        if (createError is not null)
        {
            start.Environment["FAKE_RUNC_CREATE_ERROR"] = createError;
        }

        var process = Process.Start(start)!;
        process.StandardInput.Close();
        _ = process.StandardError.ReadToEndAsync();
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(ShimBinary.Bound);
        Assert.NotNull(line);
        var harness = new MonitorHarness(root, process, ShimCodec.DecodeStarted(Encoding.UTF8.GetBytes(line)));
        if (harness.Started.Ready)
        {
            // Once the init said it is ready, no event comes unasked: the tests read replies and exits in order.
            using var first = await RawClient.ConnectAsync(harness.Socket);
            await first.SendAsync(new HelloRequest(1, ShimProtocol.ProtocolVersion));
            var hello = Assert.IsType<HelloReply>(await first.ReplyAsync<HelloReply>());
            harness.ReadyAtFirstHello = hello.Ready;
            if (!hello.Ready && first.ReadyEvents == 0)
            {
                Assert.Equal(new InitReadyEvent(harness.InitPid), await first.EventAsync());
            }
        }

        return harness;
    }

    /// <summary>Whether the first hello found the init ready already (else the ready event followed it).</summary>
    public bool ReadyAtFirstHello { get; private set; }

    /// <summary>Writes a process "spec" (a shell script for the stand-in runc) and returns its path.</summary>
    public string Spec(string script)
    {
        var path = Path.Combine(Root, $"spec{Interlocked.Increment(ref _specs)}.sh");
        File.WriteAllText(path, script + "\n");
        return path;
    }

    /// <summary>A listening socket the monitor connects a process's stdio to.</summary>
    public Socket Listen(string name)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(Path.Combine(Root, name)));
        socket.Listen(1);
        return socket;
    }

    public async Task<RawClient> ConnectAsync(bool hello = true)
    {
        var client = await RawClient.ConnectAsync(Socket);
        if (hello)
        {
            await client.SendAsync(new HelloRequest(1, ShimProtocol.ProtocolVersion));
            Assert.IsType<HelloReply>(await client.ReplyAsync<HelloReply>());
        }

        return client;
    }

    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(ShimBinary.Bound);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // The init first (the monitor then ends on its own), then the monitor if it did not.
            if (Started.InitPid is { } init)
            {
                try
                {
                    Process.GetProcessById(init).Kill();
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    // already gone
                }
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(ShimBinary.Bound);
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>A control-socket client at the level of lines: what is sent and received is visible to the test.</summary>
internal sealed class RawClient : IDisposable
{
    private readonly Socket _socket;
    private readonly StreamReader _reader;

    private RawClient(Socket socket)
    {
        _socket = socket;
        _reader = new StreamReader(new NetworkStream(socket), Encoding.UTF8);
    }

    public static async Task<RawClient> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawClient(socket);
    }

    public async Task SendAsync(ShimRequest request) => await SendLineAsync(ShimCodec.Encode(request));

    public async Task SendLineAsync(byte[] line) => await _socket.SendAsync(line, SocketFlags.None);

    /// <summary>The next line, or null at EOF.</summary>
    public async Task<string?> LineAsync() => await _reader.ReadLineAsync().WaitAsync(ShimBinary.Bound);

    /// <summary>How many init-ready events <see cref="ReplyAsync"/> passed over (one may come before any reply).</summary>
    public int ReadyEvents { get; private set; }

    /// <summary>
    /// The next reply, which must be a <typeparamref name="TReply"/> or an <see cref="ErrorReply"/>; an init-ready
    /// event before it is counted in <see cref="ReadyEvents"/>, any other line fails the test.
    /// </summary>
    public async Task<ShimReply> ReplyAsync<TReply>()
        where TReply : ShimReply
    {
        while (true)
        {
            var line = await LineAsync();
            Assert.NotNull(line);
            var bytes = Encoding.UTF8.GetBytes(line);
            if (ShimCodec.DecodeFromMonitor(bytes).Event is InitReadyEvent)
            {
                ReadyEvents++;
                continue;
            }

            return ShimCodec.DecodeReply<TReply>(bytes);
        }
    }

    /// <summary>The next line, which must be an event.</summary>
    public async Task<ShimEvent> EventAsync()
    {
        var line = await LineAsync();
        Assert.NotNull(line);
        return ShimCodec.DecodeFromMonitor(Encoding.UTF8.GetBytes(line)).Event ?? throw new Xunit.Sdk.XunitException($"not an event: {line}");
    }

    public void Dispose()
    {
        _reader.Dispose();
        _socket.Dispose();
    }
}
