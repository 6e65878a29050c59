// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Engine.Tests;

/// <summary>The process API surface (HcsCreateProcess family) on the fake backend's mini-shell processes.</summary>
public sealed class ProcessApiTests : IAsyncLifetime
{
    private readonly FakeBackend _fake = new();
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([_fake]);
        _client = HcsClient.Connect(_engine, "process-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
    }

    private async Task<Client.ComputeSystem> RunningAsync(string id)
    {
        var system = await Client.ComputeSystem.CreateAsync(_client, id, new SchemaComputeSystem
        {
            Owner = "tests",
            Container = new Container { Storage = new Storage { Path = "/scratch" } },
        });
        await system.StartAsync();
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
    public async Task Process_OutputIsDrainedAndExitCodeReported()
    {
        await using var system = await RunningAsync("p1");
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
    public async Task CreateProcess_WhenNotRunning_FailsWithInvalidState()
    {
        await using var system = await Client.ComputeSystem.CreateAsync(_client, "p2", new SchemaComputeSystem
        {
            Container = new Container { Storage = new Storage { Path = "/scratch" } },
        });
        var e = await Assert.ThrowsAsync<HcsException>(() => system.CreateProcessAsync(Sh("true")));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
        await system.TerminateAsync();
        e = await Assert.ThrowsAsync<HcsException>(() => system.CreateProcessAsync(Sh("true")));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
    }

    [Fact]
    public async Task SignalOrTerminate_AfterExit_FailWithProcessAlreadyStopped()
    {
        await using var system = await RunningAsync("p3");
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
    public async Task Kill_EndsTheProcessWith137_AndCtrlCWith130()
    {
        await using var system = await RunningAsync("p4");
        await using var sleeper = await system.CreateProcessAsync(Sh("sleep 30"));
        await sleeper.KillAsync();
        Assert.Equal(137u, (await sleeper.WaitForExitAsync()).ExitCode);

        await using var interrupted = await system.CreateProcessAsync(Sh("sleep 30"));
        await interrupted.SignalAsync(ProcessSignal.CtrlC);
        Assert.Equal(130u, (await interrupted.WaitForExitAsync()).ExitCode);
    }

    [Fact]
    public async Task CloseStdIn_GivesTheProcessEndOfFile()
    {
        await using var system = await RunningAsync("p5");
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
    public async Task ProcessExited_ArrivesOnProcessHandlesOnly()
    {
        await using var system = await RunningAsync("p6");
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
        var first = await process.EventsAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HcsEventType.ProcessExited, first.Type);
        Assert.Equal(7u, HcsJson.Deserialize<ProcessStatus>(first.EventData!).ExitCode);

        await using var opened = await system.OpenProcessAsync(process.ProcessId);
        var late = await opened.EventsAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
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
    public async Task OpenProcess_UnknownPid_FailsWithNotFound()
    {
        await using var system = await RunningAsync("p7");
        var e = await Assert.ThrowsAsync<HcsException>(() => system.OpenProcessAsync(999_999));
        Assert.Equal(HResults.ERROR_NOT_FOUND, e.HResult);
    }

    [Fact]
    public async Task SystemStop_EndsRunningProcessesWithTheExitHResult()
    {
        await using var system = await RunningAsync("p8");
        await using var process = await system.CreateProcessAsync(Sh("sleep 30"));
        await system.TerminateAsync();
        var status = await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(status.Exited);
        Assert.Equal(HResults.HCS_E_TERMINATED, status.LastWaitResult);
    }

    [Fact]
    public async Task ConsoleSize_IsAppliedToAConsoleProcess_AndRefusedWithoutOne()
    {
        await using var system = await RunningAsync("p9");
        await using var console = await system.CreateProcessAsync(new ProcessParameters
        {
            CommandLine = "sleep 30",
            EmulateConsole = true,
            CreateStdOutPipe = true,
            ConsoleSize = [24, 80],
        });
        await console.ResizeConsoleAsync(50, 132);
        var fake = _fake.Get("p9").Processes.Single(p => p.ProcessId == console.ProcessId);
        Assert.Equal(((ushort)50, (ushort)132), fake.ConsoleSize);

        await using var plain = await system.CreateProcessAsync(Sh("sleep 30"));
        var e = await Assert.ThrowsAsync<HcsException>(() => plain.ResizeConsoleAsync(50, 132));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        await console.KillAsync();
        await plain.KillAsync();
    }

    [Fact]
    public void FlatApi_CreateProcess_GivesProcessInfoAndProcessCallback()
    {
        using var scope = HcsClient.Use(_client);
        using var op = ComputeCore.HcsCreateOperation(null, null);
        Assert.Equal(0, ComputeCore.HcsCreateComputeSystem("p10",
            """{"Container":{"Storage":{"Path":"/scratch"}}}""", op, null, out var system));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, 10_000, out _));
        Assert.Equal(0, ComputeCore.HcsStartComputeSystem(system, op, null));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, 10_000, out _));

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
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResultAndProcessInfo(op, 10_000, out var info, out _));
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
        Assert.True(exited.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(5u, HcsJson.Deserialize<ProcessStatus>(data!).ExitCode);
        Assert.Equal(0, ComputeCore.HcsWaitForProcessExit(process, 1000, out var result));
        Assert.Equal(5u, HcsJson.Deserialize<ProcessStatus>(result!).ExitCode);

        Assert.Equal(0, ComputeCore.HcsTerminateProcess(process, op, null));
        Assert.Equal(HResults.HCS_E_PROCESS_ALREADY_STOPPED, ComputeCore.HcsWaitForOperationResult(op, 10_000, out _));

        ComputeCore.HcsCloseProcess(process);
        ComputeCore.HcsCloseComputeSystem(system);
        lock (systemEvents)
        {
            Assert.DoesNotContain(HcsEventType.ProcessExited, systemEvents);
        }
    }
}
