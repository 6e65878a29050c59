// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Conformance;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Engine.Tests;

/// <summary>
/// Faults only the fake can inject (<see cref="FakeScript"/>): failing or slow construction, failing or hanging start,
/// a dropped guest connection, a failing pause, a slow guest.
/// </summary>
public sealed class FakeScriptedFaultTests : FakeTestBase
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Start_WithScriptedFailure_FailsWithThatHResult_AndSystemStaysCreated()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { FailStart = HResults.HCS_E_CONNECT_FAILED }));

        await AssertFailsAsync(HResults.HCS_E_CONNECT_FAILED, () => system.StartAsync(Ct));

        await AssertStateAsync(SystemState.Created, system);
        Assert.False(FakeSystem(id).IsRunning);
        await AssertFailsAsync(HResults.HCS_E_CONNECT_FAILED, () => system.StartAsync(Ct)); // still Created: Start may be retried
        await Within(system.TerminateAsync(Ct));
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync(Ct))).ExitType);
    }

    [Fact]
    public async Task Start_FailingWithAReasonAfterTheWorkersExitWasRecorded_FailsWithTheBackendsError()
    {
        // The backend's Start had already thrown its own error (with QEMU's reason) when the engine mapped it; the exit
        // recorded just before must not turn it into "stopped while pending" (HCS_E_TERMINATED_DURING_START).
        for (var i = 0; i < 20; i++)
        {
            var id = Fixture.NewId();
            var system = await CreateFromAsync(id, Fake.Scripted(id,
                new FakeScript { FailStart = HResults.ERROR_INVALID_DATA, ExitBeforeFailingStart = true }));

            var ex = await AssertFailsAsync(HResults.ERROR_INVALID_DATA, () => system.StartAsync(Ct));

            Assert.Contains("scripted failure", ex.Message, StringComparison.Ordinal);
            Assert.Equal("ComputeSystem.Start", ex.Operation);
            await Within(system.WaitForExitAsync(Ct));
        }
    }

    [Fact]
    public async Task Start_Hanging_ThenTerminated_KillsTheFakeWithOneTerminate()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { HangStart = true }));
        var start = system.StartAsync(Ct);

        await Within(system.TerminateAsync(Ct));

        await AssertFailsAsync(HResults.HCS_E_TERMINATED, () => start);
        Assert.True(FakeSystem(id).IsDead);
        Assert.Equal(1, FakeSystem(id).TerminateCalls);
    }

    [Fact]
    public async Task Start_Slow_CompletesAfterTheDelay_InRunningState()
    {
        var clock = Fake.UseFakeClock();
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { StartDelay = TimeSpan.FromSeconds(60) }));

        var before = clock.GetUtcNow();
        await Fake.AdvanceUntilDoneAsync(system.StartAsync(Ct), TimeSpan.FromSeconds(1));

        Assert.True(clock.GetUtcNow() - before >= TimeSpan.FromSeconds(60), $"Start completed after {clock.GetUtcNow() - before} of the fake clock");
        await AssertStateAsync(SystemState.Running, system);
    }

    [Fact]
    public async Task Create_WithDelay_ReturnsTheHandleAtOnce_AndCallsWaitForConstruction()
    {
        var clock = Fake.UseFakeClock();
        var id = Fixture.NewId();
        var document = Fake.Scripted(id, new FakeScript { CreateDelay = TimeSpan.FromSeconds(100) });

        var before = clock.GetUtcNow();
        await using var handle = await Within(Client.Session.CreateSystemAsync(id, document, Ct));
        var created = handle.WaitForCreatedAsync(Ct);
        Assert.False(created.IsCompleted, "construction takes 100 s, and the fake clock has not moved");
        var start = handle.StartAsync(null, Ct); // queued behind construction

        await Fake.AdvanceUntilDoneAsync(start, TimeSpan.FromSeconds(1));
        await Within(start);
        await Within(created);
        Assert.True(clock.GetUtcNow() - before >= TimeSpan.FromSeconds(100), $"Start completed after {clock.GetUtcNow() - before}, before construction ended");
        var properties = HcsJson.Deserialize<Properties>(await Within(handle.GetPropertiesAsync(null, Ct)));
        Assert.Equal(SystemState.Running, properties.State);
    }

    [Fact]
    public async Task Enumerate_DuringConstruction_ListsTheSystemAsCreated()
    {
        var id = Fixture.NewId();
        var document = Fake.Scripted(id, new FakeScript { CreateDelay = TimeSpan.FromSeconds(30) });
        await using var handle = await Within(Client.Session.CreateSystemAsync(id, document, Ct));

        var listed = Assert.Single(await Within(ComputeSystem.EnumerateAsync(Client, new SystemQuery { Ids = [id] }, Ct)));

        Assert.Equal(SystemState.Created, listed.State);
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, () => Client.Session.CreateSystemAsync(id, Fixture.VmDocument("idle"), Ct));
    }

    [Fact]
    public async Task Terminate_DuringConstruction_FailsConstructionWithTerminated_AndExitIsForced()
    {
        var id = Fixture.NewId();
        var document = Fake.Scripted(id, new FakeScript { CreateDelay = TimeSpan.FromSeconds(30) });
        await using var handle = await Within(Client.Session.CreateSystemAsync(id, document, Ct));
        var created = handle.WaitForCreatedAsync(Ct);

        var clock = Stopwatch.StartNew();
        await Within(handle.TerminateAsync(null, Ct));

        await AssertFailsAsync(HResults.HCS_E_TERMINATED, () => created);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"construction was abandoned after {clock.Elapsed}");
        var exit = HcsJson.Deserialize<SystemExitStatus>(await Within(handle.WaitForExitAsync(Ct)));
        Assert.Equal(NotificationType.ForcedExit, exit.ExitType);
        Assert.False(Fake.Backend.Systems.ContainsKey(id), "the backend never finished constructing the system");
    }

    [Fact]
    public async Task Create_WithScriptedFailure_FailsWithThatHResult_AttributedToConstruct_AndTheIdStaysFree()
    {
        var id = Fixture.NewId();
        var document = Fake.Scripted(id, new FakeScript { FailCreate = HResults.HCS_E_HYPERV_NOT_INSTALLED });

        var e = await AssertFailsAsync(HResults.HCS_E_HYPERV_NOT_INSTALLED, () => ComputeSystem.CreateAsync(Client, id, document, Ct));

        Assert.Contains(e.Result.Attribution ?? [], r => r.OperationFailure?.Detail == OperationFailureDetail.Construct);
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, id, Ct));
        Assert.Empty(await Within(ComputeSystem.EnumerateAsync(Client, new SystemQuery { Ids = [id] }, Ct)));
        var again = await CreateAsync(id: id);
        await AssertStateAsync(SystemState.Created, again);
    }

    [Fact]
    public async Task RawHandle_OfAFailedConstruction_ReportsSystemNotFound_AndDoesNotHang()
    {
        var id = Fixture.NewId();
        var document = Fake.Scripted(id, new FakeScript { FailCreate = HResults.E_OUTOFMEMORY });
        await using var handle = await Within(Client.Session.CreateSystemAsync(id, document, Ct));

        await AssertFailsAsync(HResults.E_OUTOFMEMORY, () => handle.WaitForCreatedAsync(Ct));
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => handle.GetPropertiesAsync(null, Ct));
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => handle.StartAsync(null, Ct));
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => handle.WaitForExitAsync(Ct));
    }

    [Fact]
    public async Task DropGuestConnectionAfter_DeliversGuestConnectionClosedToEveryHandle_AndTheSystemKeepsRunning()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { DropGuestConnectionAfter = TimeSpan.FromMilliseconds(20) }));
        var other = await OpenAsync(id, Fixture.Connect("other"));
        var recorders = new[] { Record(system), Record(other) };

        await Within(system.StartAsync(Ct));

        foreach (var recorder in recorders)
        {
            var closed = await recorder.WaitForAsync(HcsEventType.SystemGuestConnectionClosed);
            Assert.False(string.IsNullOrEmpty(closed.EventData), "GuestConnectionClosed carries EventData");
        }

        await AssertStateAsync(SystemState.Running, system);
    }

    [Fact]
    public async Task Pause_WithScriptedFailure_FailsWithThatHResult_AndSystemKeepsRunning()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { FailPause = HResults.E_FAIL }));
        await Within(system.StartAsync(Ct));

        await AssertFailsAsync(HResults.E_FAIL, () => system.PauseAsync(null, Ct));

        await AssertStateAsync(SystemState.Running, system);
        Assert.False(FakeSystem(id).IsPaused);
        await AssertFailsAsync(HResults.HCS_E_INVALID_STATE, () => system.ResumeAsync(Ct)); // not paused
    }

    [Fact]
    public async Task Shutdown_OfASlowGuest_CompletesWhenTheGuestPowersOff()
    {
        var clock = Fake.UseFakeClock();
        var id = Fixture.NewId();
        var delay = Fixture.ShutdownTimeout / 2;
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { ShutdownDelay = delay }));
        await Within(system.StartAsync(Ct));

        var shutdown = system.ShutDownAsync(null, Ct);
        Assert.True(SpinWait.SpinUntil(() => FakeSystem(id).ShutdownRequests == 1, Fixture.Timeout), "the shutdown request reached the guest");
        Assert.False(shutdown.IsCompleted, "ShutDown returned before the guest powered off");
        clock.Advance(delay); // the guest's power-off is due; the shutdown timeout (twice as long) is not

        await Within(shutdown);
        var exit = await Within(system.WaitForExitAsync(Ct));
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(ExitInitiator.Client, Attribution(exit, r => r.SystemExit).Initiator);
    }

    [Fact]
    public async Task Shutdown_OfAGuestSlowerThanTheTimeout_FailsWithTimeout_ThenTheLatePowerOffIsGuestInitiated()
    {
        var clock = Fake.UseFakeClock();
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { ShutdownDelay = TimeSpan.FromHours(1) }));
        await Within(system.StartAsync(Ct));

        // The clock moves in steps of a tenth of the timeout until ShutDown gives up, long before the guest's hour.
        var shutdown = system.ShutDownAsync(null, Ct);
        await Fake.AdvanceUntilDoneAsync(shutdown, Fixture.ShutdownTimeout / 10);
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => shutdown);
        Assert.True(FakeSystem(id).IsRunning, "the guest powered off before ShutDown gave up");

        // The guest powers off after all, once ShutDown has given up: that exit is the guest's own.
        clock.Advance(TimeSpan.FromHours(1));
        var exit = await Within(system.WaitForExitAsync(Ct));
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(ExitInitiator.GuestOS, Attribution(exit, r => r.SystemExit).Initiator);
    }

    [Fact]
    public async Task GetProperties_OfASlowBackend_WhenCancelled_FailsWithCancelled()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { PropertiesDelay = TimeSpan.FromSeconds(30) }));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(30));

        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => system.GetPropertiesAsync([SystemPropertyType.Statistics], cancel.Token));

        await AssertStateAsync(SystemState.Created, system); // basic properties do not ask the backend
    }
}
