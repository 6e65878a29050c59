// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>
/// How a system stops and how that is reported: ExitType and Attribution in both WaitForExit and the SystemExited
/// EventData, calls pending at the exit, and WaitForComputeSystemExit semantics.
/// </summary>
public abstract class ExitConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task GuestPowerOff_IsGracefulExit_AttributedToGuestOS()
    {
        var system = await CreateAsync("poweroff:20");
        await using var events = Record(system);
        await Within(system.StartAsync());

        var exit = await ExitAsync(system, events);

        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(HResults.S_OK, exit.Status);
        var cause = Attribution(exit, r => r.SystemExit);
        Assert.Equal(SystemExitDetail.Shutdown, cause.Detail);
        Assert.Equal(ExitInitiator.GuestOS, cause.Initiator);
    }

    [Fact]
    public async Task Shutdown_IsGracefulExit_AttributedToClient()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var events = Record(system);

        await Within(system.ShutDownAsync());

        var exit = await ExitAsync(system, events);
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(HResults.S_OK, exit.Status);
        var cause = Attribution(exit, r => r.SystemExit);
        Assert.Equal(SystemExitDetail.Shutdown, cause.Detail);
        Assert.Equal(ExitInitiator.Client, cause.Initiator);
    }

    [Fact]
    public async Task Terminate_IsForcedExit_AttributedToClient()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var events = Record(system);

        await Within(system.TerminateAsync());

        var exit = await ExitAsync(system, events);
        Assert.Equal(NotificationType.ForcedExit, exit.ExitType);
        Assert.True(exit.Status < 0, "a forced exit carries a failure status");
        var cause = Attribution(exit, r => r.SystemExit);
        Assert.Equal(SystemExitDetail.Terminate, cause.Detail);
        Assert.Equal(ExitInitiator.Client, cause.Initiator);
    }

    [Fact]
    public async Task WorkerKilled_IsUnexpectedExit_WithWorkerExitCode137()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var events = Record(system);

        Fixture.KillWorker(system.Id);

        var exit = await ExitAsync(system, events);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(HResults.HCS_E_UNEXPECTED_EXIT, exit.Status);
        var worker = Attribution(exit, r => r.WorkerExit);
        Assert.Equal(WorkerExitType.UnexpectedStop, worker.Type);
        Assert.Equal(137u, worker.ExitCode);
    }

    [Fact]
    public async Task GuestPanic_IsUnexpectedExit_WithGuestCrashAttribution()
    {
        RequireGuestKernel();
        var system = await CreateAsync("panic:20");
        await using var events = Record(system);
        await Within(system.StartAsync());

        var exit = await ExitAsync(system, events);

        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(HResults.HCS_E_UNEXPECTED_EXIT, exit.Status);
        var crash = Attribution(exit, r => r.GuestCrash);
        Assert.NotNull(crash.CrashParameters);
    }

    [Fact]
    public async Task Crash_IsUnexpectedExit_WithGuestCrashAttribution()
    {
        RequireGuestKernel();
        var system = await PrepareAsync(Prepared.Running);
        await using var events = Record(system);

        await Within(system.CrashAsync());

        var exit = await ExitAsync(system, events);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Attribution(exit, r => r.GuestCrash);
    }

    [Fact]
    public async Task GuestReboot_WithStopOnReset_IsUnexpectedExit_StoppedOnReset()
    {
        RequireGuestKernel();
        var system = await CreateAsync("reboot:20", stopOnReset: true);
        await using var events = Record(system);
        await Within(system.StartAsync());

        var exit = await ExitAsync(system, events);

        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        var worker = Attribution(exit, r => r.WorkerExit);
        Assert.Equal(WorkerExitType.StoppedOnReset, worker.Type);
        await AssertStateAsync(SystemState.Stopped, system);
    }

    [Fact]
    public async Task GuestReboot_WithoutStopOnReset_KeepsRunning()
    {
        RequireGuestKernel();
        var system = await CreateAsync("reboot:20");
        await using var events = Record(system);
        await Within(system.StartAsync());

        // The absence of an exit is the behaviour: wait a bounded while for one that must not come.
        using var watch = new CancellationTokenSource(Fixture.Settle);
        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => system.WaitForExitAsync(watch.Token));

        await AssertStateAsync(SystemState.Running, system);
        Assert.Equal(0, events.Count(HcsEventType.SystemExited));
    }

    [Fact]
    public async Task Start_PendingWhenTerminated_FailsWithTerminated()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, RequireHangingStart(id));
        await using var other = await OpenAsync(id);

        var start = system.StartAsync();
        Assert.False(start.IsCompleted, "Start of a system whose guest never comes up stays pending");
        await Fixture.StartArrivedAsync(id);
        await Within(other.TerminateAsync());

        await AssertFailsAsync(HResults.HCS_E_TERMINATED, () => start);
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Start_PendingWhenWorkerDies_FailsWithTerminatedDuringStart()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, RequireHangingStart(id));

        var start = system.StartAsync();
        Assert.False(start.IsCompleted, "Start of a system whose guest never comes up stays pending");
        await Fixture.StartArrivedAsync(id);
        Fixture.KillWorker(id);

        var e = await AssertFailsAsync(HResults.HCS_E_TERMINATED_DURING_START, () => start);
        Assert.Equal(NotificationType.UnexpectedExit, (await Within(system.WaitForExitAsync())).ExitType);
        Assert.NotNull(e.Result.Attribution); // the failure says why: the exit's attribution
    }

    [Fact]
    public async Task Shutdown_PendingWhenWorkerDies_Succeeds_AndExitSaysUnexpectedExit()
    {
        var id = Fixture.NewId("noacpi");
        var system = await CreateFromAsync(id, Fixture.IgnoresShutdownDocument(id));
        await Within(system.StartAsync());

        var shutdown = system.ShutDownAsync();
        await Task.Delay(Fixture.Settle / 4); // not a wait for anything: lets the request reach the guest first
        Fixture.KillWorker(id);

        await Within(shutdown); // ShutDown succeeds when the system stops for any reason while it waits
        Assert.Equal(NotificationType.UnexpectedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    // ---- WaitForComputeSystemExit -----------------------------------------------------------------------------

    [Fact]
    public async Task WaitForExit_ManyWaitersOnManyHandles_AllGetTheSameStatus()
    {
        var system = await PrepareAsync(Prepared.Running);
        var otherClient = Fixture.Connect("other");
        await using var second = await OpenAsync(system.Id);
        await using var third = await OpenAsync(system.Id, otherClient);
        Task<SystemExitStatus>[] waiters =
        [
            system.WaitForExitAsync(), system.WaitForExitAsync(), second.WaitForExitAsync(), third.WaitForExitAsync(), third.WaitForExitAsync(),
        ];
        Assert.All(waiters, w => Assert.False(w.IsCompleted, "nobody has stopped the system yet"));

        Fixture.KillWorker(system.Id);

        var results = await Within(Task.WhenAll(waiters));
        var json = results.Select(HcsJson.Serialize).Distinct(StringComparer.Ordinal).ToList();
        Assert.Single(json);
        Assert.Equal(NotificationType.UnexpectedExit, results[0].ExitType);
    }

    [Fact]
    public async Task WaitForExit_AfterExit_ReturnsAtOnce_OnOldAndNewHandles()
    {
        var system = await PrepareAsync(Prepared.Stopped);
        var first = await Within(system.WaitForExitAsync());
        await using var late = await OpenAsync(system.Id);

        var clock = Stopwatch.StartNew();
        var again = await Within(system.WaitForExitAsync());
        var fromLate = await Within(late.WaitForExitAsync());
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"WaitForExit after the exit took {clock.Elapsed}");
        Assert.Equal(HcsJson.Serialize(first), HcsJson.Serialize(again));
        Assert.Equal(HcsJson.Serialize(first), HcsJson.Serialize(fromLate));
    }

    [Fact]
    public async Task WaitForExit_IsNotSatisfiedByPauseOrResume()
    {
        var system = await PrepareAsync(Prepared.Running);
        var wait = system.WaitForExitAsync();

        await Within(system.PauseAsync());
        await Within(system.ResumeAsync());
        await Within(system.GetPropertiesAsync());

        Assert.False(wait.IsCompleted, "WaitForExit completes only when the system exits");
        await Within(system.TerminateAsync());
        Assert.Equal(NotificationType.ForcedExit, (await Within(wait)).ExitType);
    }

    /// <summary>
    /// Waits for the exit and checks that WaitForExit, the SystemExited EventData and the properties tell the same story.
    /// </summary>
    private async Task<SystemExitStatus> ExitAsync(ComputeSystem system, EventRecorder events)
    {
        var exit = await Within(system.WaitForExitAsync());
        var fromEvent = ExitStatusOf(await events.WaitForAsync(HcsEventType.SystemExited));
        Assert.Equal(HcsJson.Serialize(exit), HcsJson.Serialize(fromEvent));
        var properties = await Within(system.GetPropertiesAsync());
        Assert.Equal(SystemState.Stopped, properties.State);
        Assert.Equal(exit.ExitType, properties.ExitType);
        return exit;
    }
}
