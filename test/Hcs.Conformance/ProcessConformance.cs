// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Client;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>
/// The process API (the <c>HcsCreateProcess</c> family) on systems that run processes (<see cref="IBackendFixture.ContainerDocument"/>):
/// output drained before the exit, exit codes, signals, stdin EOF, <c>ProcessExited</c> on process handles only, the
/// flat API's process information. The commands are the subset of <c>sh</c> the fake backend implements, so the same
/// tests run in a real container.
/// </summary>
public abstract class ProcessConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    private async Task<ComputeSystem> RunningAsync()
    {
        var system = await CreateFromAsync(Fixture.NewId("proc"), Fixture.ContainerDocument());
        await Within(system.StartAsync());
        return system;
    }

    private static ProcessParameters Sh(string script, bool stdin = false) => new()
    {
        CommandArgs = ["sh", "-c", script],
        CreateStdInPipe = stdin,
        CreateStdOutPipe = true,
        CreateStdErrPipe = true,
    };

    [Fact]
    public virtual async Task Process_OutputIsDrainedAndExitCodeReported()
    {
        await using var system = await RunningAsync();
        await using var process = await system.CreateProcessAsync(Sh("echo hello; echo oops >&2; exit 3"));
        var stdout = new StreamReader(process.StandardOutput!).ReadToEndAsync();
        var stderr = new StreamReader(process.StandardError!).ReadToEndAsync();
        var status = await process.WaitForExitAsync();
        Assert.Equal("hello\n", await stdout);
        Assert.Equal("oops\n", await stderr);
        Assert.True(status.Exited);
        Assert.Equal(3u, status.ExitCode);
        Assert.Equal(0, status.LastWaitResult);
        Assert.Equal(process.ProcessId, status.ProcessId);
    }

    [Fact]
    public virtual async Task CreateProcess_WhenNotRunning_FailsWithInvalidState()
    {
        await using var system = await CreateFromAsync(Fixture.NewId("proc"), Fixture.ContainerDocument());
        var e = await Assert.ThrowsAsync<HcsException>(() => system.CreateProcessAsync(Sh("true")));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
        await system.TerminateAsync();
        e = await Assert.ThrowsAsync<HcsException>(() => system.CreateProcessAsync(Sh("true")));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
    }

    [Fact]
    public virtual async Task SignalOrTerminate_AfterExit_FailWithProcessAlreadyStopped()
    {
        await using var system = await RunningAsync();
        await using var process = await system.CreateProcessAsync(Sh("exit 0"));
        await process.WaitForExitAsync();
        var e = await Assert.ThrowsAsync<HcsException>(() => process.SignalAsync(15));
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, e.HResult);
        e = await Assert.ThrowsAsync<HcsException>(() => process.KillAsync());
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, e.HResult);
        e = await Assert.ThrowsAsync<HcsException>(() => process.CloseStandardInputAsync());
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, e.HResult);
    }

    [Fact]
    public virtual async Task Kill_EndsTheProcessWith137_AndCtrlCWith130()
    {
        await using var system = await RunningAsync();
        await using var sleeper = await system.CreateProcessAsync(Sh("sleep 30"));
        await sleeper.KillAsync();
        Assert.Equal(137u, (await sleeper.WaitForExitAsync()).ExitCode);

        await using var interrupted = await system.CreateProcessAsync(Sh("sleep 30"));
        await interrupted.SignalAsync(ProcessSignal.CtrlC);
        Assert.Equal(130u, (await interrupted.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public virtual async Task CloseStdIn_GivesTheProcessEndOfFile()
    {
        await using var system = await RunningAsync();
        await using var cat = await system.CreateProcessAsync(Sh("cat", stdin: true));
        var output = new StreamReader(cat.StandardOutput!).ReadToEndAsync();
        await cat.StandardInput!.WriteAsync(Encoding.UTF8.GetBytes("abc"));
        await cat.StandardInput.FlushAsync();
        Assert.False((await cat.GetStatusAsync()).Exited);
        await cat.CloseStandardInputAsync();
        Assert.Equal(0u, (await cat.WaitForExitAsync()).ExitCode);
        Assert.Equal("abc", await output);
    }

    [Fact]
    public virtual async Task CloseStdIn_RightAfterAWrite_DeliversEveryByteBeforeTheEndOfFile()
    {
        await using var system = await RunningAsync();
        for (var i = 0; i < 20; i++)
        {
            await using var cat = await system.CreateProcessAsync(Sh("cat", stdin: true));
            var output = new StreamReader(cat.StandardOutput!).ReadToEndAsync();
            await cat.StandardInput!.WriteAsync(Encoding.UTF8.GetBytes($"line {i}\n"));
            await cat.StandardInput.FlushAsync();

            await cat.CloseStandardInputAsync(); // straight after the write: the close must not overtake the bytes

            Assert.Equal($"line {i}\n", await Within(output));
            Assert.Equal(0u, (await Within(cat.WaitForExitAsync())).ExitCode);
        }
    }

    [Fact]
    public virtual async Task ProcessExited_ArrivesOnProcessHandlesOnly()
    {
        await using var system = await RunningAsync();
        var systemEvents = new List<HcsEvent>();
        using var stop = new CancellationTokenSource();
        var systemReader = Task.Run(async () =>
        {
            await foreach (var e in system.EventsAsync(stop.Token))
            {
                systemEvents.Add(e);
            }
        });
        await using var process = await system.CreateProcessAsync(Sh("exit 7"));
        var first = await process.EventsAsync().FirstAsync().AsTask().WaitAsync(Fixture.Timeout);
        Assert.Equal(HcsEventType.ProcessExited, first.Type);
        Assert.Equal(7u, HcsJson.Deserialize<ProcessStatus>(first.EventData!).ExitCode);

        await using var opened = await system.OpenProcessAsync(process.ProcessId);
        var late = await opened.EventsAsync().FirstAsync().AsTask().WaitAsync(Fixture.Timeout);
        Assert.Equal(HcsEventType.ProcessExited, late.Type);

        await system.TerminateAsync();
        await system.WaitForExitAsync();
        await Task.Delay(50);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => systemReader);
        Assert.DoesNotContain(systemEvents, e => e.Type == HcsEventType.ProcessExited);
        Assert.Contains(systemEvents, e => e.Type == HcsEventType.SystemExited);
    }

    [Fact]
    public virtual async Task OpenProcess_UnknownPid_FailsWithNotFound()
    {
        await using var system = await RunningAsync();
        var e = await Assert.ThrowsAsync<HcsException>(() => system.OpenProcessAsync(999_999));
        Assert.Equal(HResults.ERROR_NOT_FOUND, e.HResult);
    }

    [Fact]
    public virtual async Task SystemStop_EndsRunningProcessesWithTheExitHResult()
    {
        await using var system = await RunningAsync();
        await using var process = await system.CreateProcessAsync(Sh("sleep 30"));
        await system.TerminateAsync();
        var status = await process.WaitForExitAsync().WaitAsync(Fixture.Timeout);
        Assert.True(status.Exited);
        Assert.Equal(HResults.HCS_E_TERMINATED, status.LastWaitResult);
    }

    [Fact]
    public virtual void FlatApi_CreateProcess_GivesProcessInfoAndProcessCallback()
    {
        using var scope = HcsClient.Use(Client);
        var id = Fixture.NewId("proc");
        using var op = ComputeCore.HcsCreateOperation(null, null);
        Assert.Equal(0, ComputeCore.HcsCreateComputeSystem(id, Fixture.ContainerDocument(), op, null, out var system));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, (uint)Fixture.Timeout.TotalMilliseconds, out _));
        Assert.Equal(0, ComputeCore.HcsStartComputeSystem(system, op, null));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, (uint)Fixture.Timeout.TotalMilliseconds, out _));

        var systemEvents = new List<HcsEventType>();
        Assert.Equal(0, ComputeCore.HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (e, _) =>
        {
            lock (systemEvents)
            {
                systemEvents.Add(e.Type);
            }
        }));

        Assert.Equal(0, ComputeCore.HcsCreateProcess(system,
            """{"CommandLine":"sh -c 'echo hi; sleep 0.05; exit 5'","CreateStdOutPipe":true}""", op, null, out var process));
        Assert.Equal((int)HcsOperationType.CreateProcess, (int)ComputeCore.HcsGetOperationType(op));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResultAndProcessInfo(op, (uint)Fixture.Timeout.TotalMilliseconds, out var info, out _));
        Assert.NotNull(info);
        Assert.Equal(process!.ProcessId, info.ProcessId);
        Assert.NotNull(info.StdOutput);
        Assert.Null(info.StdInput);

        using var exited = new ManualResetEventSlim();
        string? data = null;
        Assert.Equal(0, ComputeCore.HcsSetProcessCallback(process, HcsEventOptions.None, null, (e, _) =>
        {
            if (e.Type == HcsEventType.ProcessExited)
            {
                data = e.EventData;
                exited.Set();
            }
        }));
        Assert.Equal("hi\n", new StreamReader(info.StdOutput).ReadToEnd());
        Assert.True(exited.Wait(Fixture.Timeout));
        Assert.Equal(5u, HcsJson.Deserialize<ProcessStatus>(data!).ExitCode);
        Assert.Equal(0, ComputeCore.HcsWaitForProcessExit(process, 1000, out var result));
        Assert.Equal(5u, HcsJson.Deserialize<ProcessStatus>(result!).ExitCode);

        Assert.Equal(0, ComputeCore.HcsTerminateProcess(process, op, null));
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, ComputeCore.HcsWaitForOperationResult(op, (uint)Fixture.Timeout.TotalMilliseconds, out _));

        ComputeCore.HcsCloseProcess(process);
        ComputeCore.HcsCloseComputeSystem(system);
        lock (systemEvents)
        {
            Assert.DoesNotContain(HcsEventType.ProcessExited, systemEvents);
        }
    }

    [Fact]
    public virtual void FlatApi_OpenProcess_ProcessInfo_Properties_Signal_AndModify()
    {
        using var scope = HcsClient.Use(Client);
        var timeout = (uint)Fixture.Timeout.TotalMilliseconds;
        using var op = ComputeCore.HcsCreateOperation(null, null);
        Assert.Equal(0, ComputeCore.HcsCreateComputeSystem(Fixture.NewId("proc"), Fixture.ContainerDocument(), op, null, out var system));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, timeout, out _));
        Assert.Equal(0, ComputeCore.HcsStartComputeSystem(system, op, null));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, timeout, out _));
        Assert.Equal(0, ComputeCore.HcsCreateProcess(system,
            """{"CommandArgs":["sh","-c","cat"],"CreateStdInPipe":true,"CreateStdOutPipe":true}""", op, null, out var process));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResultAndProcessInfo(op, timeout, out var created, out _));

        // The creating handle gets the stdio again from HcsGetProcessInfo.
        Assert.Equal(0, ComputeCore.HcsGetProcessInfo(process, op));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResultAndProcessInfo(op, timeout, out var info, out _));
        Assert.Equal(created!.ProcessId, info!.ProcessId);
        Assert.NotNull(info.StdInput);
        Assert.NotNull(info.StdOutput);

        // A second handle, opened by pid, sees the same process.
        Assert.Equal(0, ComputeCore.HcsOpenProcess(system, created.ProcessId, ComputeCore.GENERIC_ALL, out var opened));
        Assert.Equal(0, ComputeCore.HcsGetProcessProperties(opened, op, null));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, timeout, out var properties));
        var status = HcsJson.Deserialize<ProcessStatus>(properties!);
        Assert.Equal(created.ProcessId, status.ProcessId);
        Assert.False(status.Exited);

        // CloseHandle StdIn through the opened handle: cat reads EOF and exits 0 after echoing what it got.
        created.StdInput!.Write("ping"u8);
        created.StdInput.Flush();
        Assert.Equal(0, ComputeCore.HcsModifyProcess(opened, op, """{"Operation":"CloseHandle","CloseHandle":{"Handle":"StdIn"}}"""));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, timeout, out _));
        Assert.Equal("ping", new StreamReader(created.StdOutput!).ReadToEnd());
        Assert.Equal(0, ComputeCore.HcsWaitForProcessExit(opened, timeout, out var exited));
        Assert.Equal(0u, HcsJson.Deserialize<ProcessStatus>(exited!).ExitCode);

        // After the exit: signals fail with PROCESS_ALREADY_STOPPED.
        Assert.Equal(0, ComputeCore.HcsSignalProcess(opened, op, """{"Signal":15}"""));
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, ComputeCore.HcsWaitForOperationResult(op, timeout, out _));
        ComputeCore.HcsCloseProcess(opened);
        ComputeCore.HcsCloseProcess(process);
        Assert.Equal(0, ComputeCore.HcsTerminateComputeSystem(system, op, null));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, timeout, out _));
        ComputeCore.HcsCloseComputeSystem(system);
    }
}
