// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text;
using Hcs.Backends.Runc;
using Hcs.Shim.Protocol;

namespace Hcs.Shim.Tests;

/// <summary>The published hcs-shim as a process: its command lines, and <c>launch</c>.</summary>
public sealed class ShimCommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-shim-launch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Version_PrintsTheProtocolVersion()
    {
        var (code, stdout, _) = await ShimBinary.RunAsync("--version");
        Assert.Equal(0, code);
        Assert.Equal($"hcs-shim shim-protocol {ShimProtocol.ProtocolVersion}\n", stdout);
    }

    [Theory]
    [InlineData]
    [InlineData("monitor", "--id", "x")]
    [InlineData("init", "extra")]
    [InlineData("bogus")]
    public async Task BadCommandLines_PrintUsage_AndExit2(params string[] args)
    {
        var (code, _, stderr) = await ShimBinary.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Contains("usage: hcs-shim monitor", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_RefusesToRunUnlessPid1()
    {
        var (code, _, stderr) = await ShimBinary.RunAsync("init");
        Assert.Equal(2, code);
        Assert.Contains("must run as PID 1", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_BecomesTheProgram_WithItsOutputAppendedToTheLog_AndStdinEmpty()
    {
        var log = Path.Combine(_dir, "out.log");
        await File.WriteAllTextAsync(log, "before\n");
        var (code, stdout, stderr) = await ShimBinary.RunAsync("launch", "--log", log, "--", "/bin/sh", "-c",
            "echo out; echo err >&2; read line || echo stdin-empty; exit 5");
        Assert.Equal(5, code); // the program's own status: the launcher is the program
        Assert.Equal("", stdout);
        Assert.Equal("", stderr);
        Assert.Equal("before\nout\nerr\nstdin-empty\n", await File.ReadAllTextAsync(log));
    }

    [Fact]
    public async Task Launch_CreatesTheLogPrivate_AndRunsInASessionOfItsOwn()
    {
        var log = Path.Combine(_dir, "new.log");
        var (code, _, _) = await ShimBinary.RunAsync("launch", "--log", log, "--", "/bin/sh", "-c", "echo $$ $(cut -d' ' -f6 /proc/$$/stat)");
        Assert.Equal(0, code);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        var fields = (await File.ReadAllTextAsync(log)).Split(' ', StringSplitOptions.TrimEntries);
        Assert.Equal(fields[0], fields[1]); // session id == its pid: setsid()
    }

    [Theory]
    [InlineData("launch")]
    [InlineData("launch", "--log")]
    [InlineData("launch", "--log", "LOG")]
    [InlineData("launch", "--log", "LOG", "--")]
    [InlineData("launch", "--log", "LOG", "/bin/true")]
    [InlineData("launch", "--log", "LOG", "--fd", "3", "--", "/bin/true")] // --fd needs --parent
    [InlineData("launch", "--log", "LOG", "--parent", "x1", "--fd", "3", "--", "/bin/true")]
    [InlineData("launch", "--log", "LOG", "--fd", "-3", "--", "/bin/true")]
    public async Task Launch_WithBadArguments_ExitsWithUsage(params string[] args)
    {
        var (code, _, stderr) = await ShimBinary.RunAsync([.. args.Select(a => a == "LOG" ? Path.Combine(_dir, "l.log") : a)]);
        Assert.Equal(2, code);
        Assert.Contains("usage: hcs-shim launch", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_OfAMissingProgram_Exits127_AndSaysSoInTheLog()
    {
        var log = Path.Combine(_dir, "missing.log");
        var (code, _, _) = await ShimBinary.RunAsync("launch", "--log", log, "--", "/nonexistent/program");
        Assert.Equal(127, code);
        Assert.Contains("launch: cannot run /nonexistent/program", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_WithALogItCannotOpen_Exits126()
    {
        var (code, _, stderr) = await ShimBinary.RunAsync("launch", "--log", Path.Combine(_dir, "no", "such", "dir.log"), "--", "/bin/true");
        Assert.Equal(126, code);
        Assert.Contains("launch: cannot open", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Launch_WithAParentThatIsNotItsParent_Exits126()
    {
        var log = Path.Combine(_dir, "parent.log");
        var (code, _, _) = await ShimBinary.RunAsync("launch", "--log", log, "--parent", "1", "--fd", "0", "--", "/bin/true");
        Assert.Equal(126, code);
        Assert.Contains("not the launcher's parent", await File.ReadAllTextAsync(log), StringComparison.Ordinal);
    }
}

/// <summary>
/// <c>hcs-shim monitor</c> as a process, over its control socket, with a stand-in runc (<see cref="MonitorHarness"/>):
/// the hello exchange and its version check, exec and its exit (reply first, record = event), signals, the end.
/// </summary>
public sealed class MonitorProcessTests
{
    [Fact]
    public async Task Start_SaysReadyWithTheInit_AndListensOnAPrivateSocket()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        Assert.True(monitor.Started.Ready);
        Assert.True(monitor.InitPid > 0);
        Assert.Null(monitor.Started.Error);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(monitor.Socket));
        using var client = await RawClient.ConnectAsync(monitor.Socket);
        await client.SendAsync(new HelloRequest(9, ShimProtocol.ProtocolVersion));
        Assert.Equal(new HelloReply(9, ShimProtocol.ProtocolVersion, monitor.InitPid, true), await client.ReplyAsync<HelloReply>());
    }

    [Fact]
    public async Task Start_WhenRuncCreateFails_SaysNotReadyWithRuncsMessage_AndExits1()
    {
        await using var monitor = await MonitorHarness.StartAsync(createError: "the bundle is bad");
        Assert.Equal(new MonitorStarted(false, null, "the bundle is bad"), monitor.Started);
        Assert.Equal(1, await monitor.WaitForExitAsync());
        Assert.False(File.Exists(monitor.Socket));
    }

    [Fact]
    public async Task ARequestBeforeHello_IsAVersionMismatch_AndTheConnectionIsClosed()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using (var client = await RawClient.ConnectAsync(monitor.Socket))
        {
            // What a client of version 0 sent first; nothing after it is read.
            await client.SendLineAsync("{\"id\":2,\"op\":\"ping\"}\n"u8.ToArray());
            try
            {
                await client.SendAsync(new SignalRequest(3, monitor.InitPid, 15));
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The monitor may already have refused and closed (EPIPE): the refusal is still there to read.
            }
            var refused = Assert.IsType<ErrorReply>(await client.ReplyAsync<OkReply>());
            Assert.Equal((2L, ShimErrorCodes.VersionMismatch, (int?)ShimProtocol.ProtocolVersion), (refused.Id, refused.Code, refused.Version));
            Assert.Contains("the first request must be hello", refused.Error, StringComparison.Ordinal);
            Assert.Null(await client.LineAsync()); // closed
        }

        Assert.False(monitor.Process.HasExited); // the init was not signalled; the monitor serves the next client
        using var next = await monitor.ConnectAsync();
    }

    [Fact]
    public async Task AHelloOfAnotherVersion_IsRefusedNamingBothVersions_AndTheConnectionIsClosed()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using var client = await RawClient.ConnectAsync(monitor.Socket);
        await client.SendAsync(new HelloRequest(3, ShimProtocol.ProtocolVersion + 41));
        var refused = Assert.IsType<ErrorReply>(await client.ReplyAsync<HelloReply>());
        Assert.Equal((3L, ShimErrorCodes.VersionMismatch, (int?)ShimProtocol.ProtocolVersion), (refused.Id, refused.Code, refused.Version));
        Assert.Contains($"version {ShimProtocol.ProtocolVersion}", refused.Error, StringComparison.Ordinal);
        Assert.Contains($"version {ShimProtocol.ProtocolVersion + 41}", refused.Error, StringComparison.Ordinal);
        Assert.Null(await client.LineAsync());
    }

    [Fact]
    public async Task Exec_RepliesWithThePid_BeforeItsExit_AndTheRecordIsTheEventLine()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using var client = await monitor.ConnectAsync();
        using var stdoutListener = monitor.Listen("out.sock");
        var spec = monitor.Spec("echo hello from $$; exit 3");
        await client.SendAsync(new ExecRequest(5, spec, Stdout: Path.Combine(monitor.Root, "out.sock")));
        var reply = Assert.IsType<ExecReply>(await client.ReplyAsync<ExecReply>());
        Assert.Equal(5, reply.Id);
        Assert.True(reply.Pid > 0);
        Assert.Equal(reply.Pid, reply.NsPid); // no pid namespace here: the same pid
        var eventLine = await client.LineAsync();
        var exit = Assert.IsType<ProcessExit>(ShimCodec.DecodeFromMonitor(Encoding.UTF8.GetBytes(eventLine!)).Event);
        Assert.Equal((reply.Pid, 3, (int?)null, reply.Pid), (exit.Pid, exit.Status, exit.Signal, exit.NsPid));
        Assert.NotNull(exit.Time);
        Assert.Equal(eventLine + "\n", await File.ReadAllTextAsync(ProcessExit.RecordPath(monitor.State, reply.Pid)));

        using var stdout = await stdoutListener.AcceptAsync();
        using var reader = new StreamReader(new NetworkStream(stdout));
        Assert.Equal($"hello from {reply.Pid}", await reader.ReadLineAsync());
    }

    [Fact]
    public async Task Signal_ReachesARunningProcess_ThenItHasExited_AndUnknownPidsAreNotFound()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using var client = await monitor.ConnectAsync();
        await client.SendAsync(new ExecRequest(1, monitor.Spec("exec sleep 60")));
        var pid = Assert.IsType<ExecReply>(await client.ReplyAsync<ExecReply>()).Pid;

        await client.SendAsync(new ResizeRequest(2, pid, 10, 10));
        Assert.Equal(ShimErrorCodes.NotFound, Assert.IsType<ErrorReply>(await client.ReplyAsync<OkReply>()).Code); // no console
        await client.SendAsync(new SignalRequest(3, pid, 0));
        Assert.Equal(ShimErrorCodes.BadRequest, Assert.IsType<ErrorReply>(await client.ReplyAsync<OkReply>()).Code);
        await client.SendAsync(new SignalRequest(4, 1, 15)); // never started by this monitor
        Assert.Equal(ShimErrorCodes.NotFound, Assert.IsType<ErrorReply>(await client.ReplyAsync<OkReply>()).Code);

        await client.SendAsync(new SignalRequest(5, pid, 9));
        Assert.Equal(new OkReply(5), await client.ReplyAsync<OkReply>());
        var exit = Assert.IsType<ProcessExit>(await client.EventAsync());
        Assert.Equal((pid, 137, (int?)9), (exit.Pid, exit.Status, exit.Signal));
        await client.SendAsync(new SignalRequest(6, pid, 9));
        Assert.Equal(ShimErrorCodes.Exited, Assert.IsType<ErrorReply>(await client.ReplyAsync<OkReply>()).Code);
    }

    [Fact]
    public async Task Exec_ThatRuncRefuses_IsExecFailed_WithRuncsMessage()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using var client = await monitor.ConnectAsync();
        await client.SendAsync(new ExecRequest(7, monitor.Spec("#fail exec: nope: executable file not found in $PATH")));
        Assert.Equal(new ErrorReply(7, "exec: nope: executable file not found in $PATH", ShimErrorCodes.ExecFailed), await client.ReplyAsync<ExecReply>());
        await client.SendAsync(new ExecRequest(8, "relative.json"));
        Assert.Equal(ShimErrorCodes.BadRequest, Assert.IsType<ErrorReply>(await client.ReplyAsync<ExecReply>()).Code);
        await client.SendLineAsync("{\"op\":\"exec\",\"id\":9}\n"u8.ToArray());
        var noSpec = Assert.IsType<ErrorReply>(await client.ReplyAsync<ExecReply>());
        Assert.Equal((9L, ShimErrorCodes.BadRequest), (noSpec.Id, noSpec.Code));
        Assert.StartsWith("invalid 'exec' request", noSpec.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheInitsExit_EndsTheMonitor_AfterItsEvent_ThenEof()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        using var client = await monitor.ConnectAsync();
        await client.SendAsync(new SignalRequest(1, monitor.InitPid, 15));
        Assert.Equal(new OkReply(1), await client.ReplyAsync<OkReply>());
        var exit = Assert.IsType<ProcessExit>(await client.EventAsync());
        Assert.Equal((monitor.InitPid, 0, (int?)null), (exit.Pid, exit.Status, exit.Signal)); // exit 0 on SIGTERM: a clean stop
        Assert.Null(await client.LineAsync());
        Assert.Equal(0, await monitor.WaitForExitAsync());
        Assert.False(File.Exists(monitor.Socket));
        Assert.Equal(exit, ProcessExit.ReadRecord(monitor.State, monitor.InitPid));
    }

    [Fact]
    public async Task EngineClient_SaysHello_Execs_AndLearnsExits_AndIsReplacedByTheNextClient()
    {
        await using var monitor = await MonitorHarness.StartAsync();
        await using var first = await ShimClient.ConnectAsync(monitor.Socket, TestContext.Current.CancellationToken);
        Assert.Equal(new HelloReply(1, ShimProtocol.ProtocolVersion, monitor.InitPid, true), first.Hello);
        Assert.True(first.InitReady.IsCompletedSuccessfully); // ready before this connection: learnt from the hello

        var reply = await first.ExecAsync(new ExecRequest(0, monitor.Spec("exit 42")), TestContext.Current.CancellationToken);
        var exit = await first.WaitExitAsync(reply.Pid).WaitAsync(ShimBinary.Bound);
        Assert.Equal((42, (int?)null), (exit.Status, exit.Signal));
        var gone = await Assert.ThrowsAsync<ShimErrorException>(() => first.SignalAsync(reply.Pid, 15, TestContext.Current.CancellationToken));
        Assert.Equal(ShimErrorCodes.Exited, gone.Code);

        await using var second = await ShimClient.ConnectAsync(monitor.Socket, TestContext.Current.CancellationToken);
        await first.Closed.WaitAsync(ShimBinary.Bound); // one client at a time
        await second.SignalAsync(monitor.InitPid, 15, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await second.WaitExitAsync(monitor.InitPid).WaitAsync(ShimBinary.Bound)).Status);
        await second.Closed.WaitAsync(ShimBinary.Bound);
    }
}

/// <summary>The engine's side of the version check, against stand-in monitors that answer hello as other versions do.</summary>
public sealed class EngineVersionCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-shim-peer-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("{\"id\":1,\"error\":\"unknown op 'hello'\",\"code\":\"bad-request\"}", ShimProtocol.PreHelloVersion)] // a version-0 monitor
    [InlineData("{\"id\":1,\"error\":\"the client speaks version 1\",\"code\":\"version-mismatch\",\"version\":2}", 2)]
    [InlineData("{\"id\":1,\"version\":3,\"initPid\":5,\"ready\":true}", 3)] // a monitor that should have refused
    public async Task Connect_ToAMonitorOfAnotherVersion_FailsNamingBothVersions(string answer, int theirs)
    {
        var path = Path.Combine(_dir, "shim.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var peer = Task.Run(async () =>
        {
            using var socket = await listener.AcceptAsync();
            using var reader = new StreamReader(new NetworkStream(socket));
            var hello = await reader.ReadLineAsync();
            await socket.SendAsync(Encoding.UTF8.GetBytes(answer + "\n"), SocketFlags.None);
            return hello;
        });

        var e = await Assert.ThrowsAsync<ShimVersionException>(() => ShimClient.ConnectAsync(path, TestContext.Current.CancellationToken));
        Assert.Equal(theirs, e.MonitorVersion);
        Assert.Equal(ShimErrorCodes.VersionMismatch, e.Code);
        Assert.Contains($"version {theirs}", e.Message, StringComparison.Ordinal);
        Assert.Contains($"version {ShimProtocol.ProtocolVersion}", e.Message, StringComparison.Ordinal);
        Assert.Equal($"{{\"op\":\"hello\",\"id\":1,\"version\":{ShimProtocol.ProtocolVersion}}}", await peer.WaitAsync(ShimBinary.Bound));
    }
}
