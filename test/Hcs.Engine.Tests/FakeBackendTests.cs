// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Conformance;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Engine.Tests;

/// <summary>
/// Engine behaviour observed from the backend's side (what the fake received), and guest actions only the fake can
/// perform on demand: remote console, dropped guest connection, reset, panic with a given log, worker exit codes.
/// </summary>
public sealed class FakeBackendTests : FakeTestBase
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Terminate_Concurrently_SendsExactlyOneTerminateToTheBackend()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var second = await OpenAsync(system.Id);
        await using var third = await OpenAsync(system.Id, Fixture.Connect("other"));

        // Calls made while the first is in flight join it; a call that arrives after the stop is ALREADY_STOPPED.
        // Either way the backend is terminated exactly once.
        var calls = new[] { system.TerminateAsync(Ct), second.TerminateAsync(Ct), third.TerminateAsync(Ct) };
        await Within(calls[0]);
        foreach (var call in calls[1..])
        {
            var error = await Xunit.Record.ExceptionAsync(() => Within(call));
            Assert.True(error is null || HcsErrors.IsAlreadyStopped(error), $"unexpected {error}");
        }

        Assert.Equal(1, FakeSystem(system.Id).TerminateCalls);
        Assert.True(FakeSystem(system.Id).IsDead);
    }

    [Fact]
    public async Task Shutdown_JoinedByASecondShutdown_SendsExactlyOneShutdownRequest()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fixture.IgnoresShutdownDocument(id));
        await Within(system.StartAsync(Ct));
        await using var other = await OpenAsync(id);

        var first = system.ShutDownAsync(null, Ct);
        var second = other.ShutDownAsync(null, Ct);
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => first);
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => second);

        Assert.Equal(1, FakeSystem(id).ShutdownRequests);
        Assert.True(FakeSystem(id).IsRunning);
    }

    [Fact]
    public async Task Shutdown_AfterAnEarlierOneTimedOut_SendsANewRequest()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fixture.IgnoresShutdownDocument(id));
        await Within(system.StartAsync(Ct));

        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => system.ShutDownAsync(null, Ct));
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => system.ShutDownAsync(null, Ct));

        Assert.Equal(2, FakeSystem(id).ShutdownRequests);
    }

    [Fact]
    public async Task LastHandleClosed_WithTerminateOnLastHandleClosed_KillsTheFakeBeforeCloseReturns()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: true);
        await Within(system.StartAsync(Ct));
        var fake = FakeSystem(system.Id);

        await Within(system.DisposeAsync());

        Assert.True(fake.IsDead, "closing the last handle terminated the system");
        Assert.Equal(1, fake.TerminateCalls);
        Assert.Equal(0, Fake.Engine.SystemCount);
    }

    [Fact]
    public async Task LastHandleClosed_WithoutTerminateOnLastHandleClosed_LeavesTheFakeRunning()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: false);
        await Within(system.StartAsync(Ct));
        var fake = FakeSystem(system.Id);

        await Within(system.DisposeAsync());

        Assert.True(fake.IsRunning);
        Assert.Equal(0, fake.TerminateCalls);
        Assert.Equal(1, Fake.Engine.SystemCount);
    }

    [Fact]
    public async Task TwoClients_WithTerminateOnLastHandleClosed_FakeDiesOnlyWhenBothClosed()
    {
        var first = Fixture.Connect("first");
        var second = Fixture.Connect("second");
        var system = await CreateAsync(terminateOnLastHandleClosed: true, client: first);
        await Within(system.StartAsync(Ct));
        _ = await OpenAsync(system.Id, second);
        var fake = FakeSystem(system.Id);

        await Within(first.DisposeAsync());
        Assert.True(fake.IsRunning, "the second client still holds a handle");

        await Within(second.DisposeAsync());
        Assert.True(fake.IsDead);
        Assert.Equal(1, fake.TerminateCalls);
    }

    [Fact]
    public async Task Modify_MemorySize_ReachesTheBackend_AndShowsInMemoryProperties()
    {
        var system = await PrepareAsync(Prepared.Running);

        await Within(system.ModifyAsync(MemoryUpdate(512), Ct));

        Assert.Equal(512ul, FakeSystem(system.Id).MemorySizeInMB);
        var properties = await Within(system.GetPropertiesAsync([SystemPropertyType.Memory], Ct));
        Assert.Equal(512ul, properties.Memory?.VirtualMachineMemory?.AssignedMemory);
    }

    [Fact]
    public async Task Modify_UnsupportedResource_FailsWithInvalidJson_AndChangesNothing()
    {
        var system = await PrepareAsync(Prepared.Running);
        var request = new ModifySettingRequest
        {
            ResourcePath = "VirtualMachine/Devices/Keyboard",
            RequestType = ModifyRequestType.Add,
            Settings = JsonDocument.Parse("{}").RootElement.Clone(),
        };

        await AssertFailsAsync(HResults.HCS_E_INVALID_JSON, () => system.ModifyAsync(request, Ct));

        Assert.Equal(256ul, FakeSystem(system.Id).MemorySizeInMB);
        await AssertStateAsync(SystemState.Running, system);
    }

    [Fact]
    public async Task Save_WritesTheStateFileWhereAsked()
    {
        var system = await PrepareAsync(Prepared.Paused);
        var path = Path.Combine(Fixture.TempDirectory, "saved.vmrs");

        await Within(system.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = path }, Ct));

        Assert.Equal(path, FakeSystem(system.Id).SavedTo);
        Assert.Contains(system.Id, await File.ReadAllTextAsync(path, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Statistics_IncludeTheBackendsProcessorAndMemoryFigures()
    {
        var system = await PrepareAsync(Prepared.Running);

        var statistics = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics], Ct))).Statistics;

        Assert.NotNull(statistics?.Processor);
        Assert.NotNull(statistics.Processor.TotalRuntime100ns);
        Assert.NotNull(statistics.Memory);
        Assert.Equal(256ul * 1024 * 1024, statistics.Memory.MemoryUsageCommitBytes);
    }

    [Fact]
    public async Task GetProperties_ProcessList_IsNotSupportedByTheFake_ButTheCallSucceeds()
    {
        var system = await PrepareAsync(Prepared.Running);

        var properties = await Within(system.GetPropertiesAsync([SystemPropertyType.ProcessList, SystemPropertyType.Statistics], Ct));

        Assert.Null(properties.ProcessList);
        var response = Assert.Contains(nameof(SystemPropertyType.ProcessList), properties.PropertyResponses!);
        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, response.Error?.Error);
        Assert.NotNull(properties.Statistics);
    }

    [Fact]
    public async Task RemoteConsoleAndGuestConnectionEvents_ReachEverySubscribedHandle_InOrder_WithEventData()
    {
        var system = await PrepareAsync(Prepared.Running);
        var other = Fixture.Connect("other");
        var second = await OpenAsync(system.Id);
        var third = await OpenAsync(system.Id, other);
        var unsubscribed = await OpenAsync(system.Id, other); // never subscribes: must not disturb delivery
        var recorders = new[] { Record(system), Record(second), Record(third) };
        var fake = FakeSystem(system.Id);

        fake.RemoteConsole(connected: true);
        fake.DropGuestConnection();
        fake.RemoteConsole(connected: false);
        fake.PowerOff();

        foreach (var recorder in recorders)
        {
            await recorder.WaitForAsync(HcsEventType.SystemExited);
            var events = recorder.Events;
            Assert.Equal(
                [HcsEventType.SystemRdpEnhancedModeStateChanged, HcsEventType.SystemGuestConnectionClosed,
                    HcsEventType.SystemRdpEnhancedModeStateChanged, HcsEventType.SystemExited],
                events.Select(e => e.Type));
            Assert.All(events, e => Assert.False(string.IsNullOrEmpty(e.EventData), $"{e.Type} carries EventData"));
            Assert.Contains("true", events[0].EventData!, StringComparison.Ordinal);
            Assert.Contains("false", events[2].EventData!, StringComparison.Ordinal);
        }

        await Within(unsubscribed.DisposeAsync());
    }

    [Fact]
    public async Task VportVerb_ClosesEachVirtioSerialPort_AsGuestConnectionClosedNamingThePort()
    {
        var document = HcsJson.ParseComputeSystem(Fake.VmDocument("vport:10"));
        var vm = document.VirtualMachine!;
        document = document with
        {
            VirtualMachine = vm with
            {
                Devices = new Devices
                {
                    VirtioSerial = new VirtioSerial
                    {
                        Ports = new Dictionary<string, VirtioSerialPort>
                        {
                            ["0"] = new() { Name = "org.hcs.agent", NamedPipe = "/run/hcs/agent.sock" },
                            ["1"] = new() { Name = "org.hcs.log", NamedPipe = "/run/hcs/log.sock" },
                        },
                    },
                },
            },
        };
        var system = await CreateFromAsync("vport", HcsJson.Serialize(document));
        var events = Record(system);
        await Within(system.StartAsync(Ct));
        await events.WaitForAsync(HcsEventType.SystemGuestConnectionClosed);
        FakeSystem(system.Id).PowerOff(); // both closes were enqueued in one go, before this
        await events.WaitForAsync(HcsEventType.SystemExited);

        var all = events.Events;
        Assert.Equal([HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemExited],
            all.Select(e => e.Type));
        var closed = all.Take(2).Select(e => HcsJson.Deserialize<GuestConnectionClosedInfo>(e.EventData!)).OrderBy(c => c.Port).ToList();
        Assert.Equal(["0", "1"], closed.Select(c => c.Port));
        Assert.Equal(["org.hcs.agent", "org.hcs.log"], closed.Select(c => c.Name));
        Assert.Equal("/run/hcs/agent.sock", closed[0].NamedPipe);
        Assert.NotNull(closed[0].Timestamp);
    }

    [Fact]
    public async Task GuestEvents_AfterTheExit_AreNotDelivered()
    {
        var system = await PrepareAsync(Prepared.Running);
        var events = Record(system);
        var fake = FakeSystem(system.Id);
        fake.PowerOff();
        await events.WaitForAsync(HcsEventType.SystemExited);

        fake.DropGuestConnection();
        fake.RemoteConsole(connected: true);
        fake.Panic("too late");
        fake.Reset();
        fake.KillWorker();
        await Within(system.DisposeAsync());

        var all = await events.WaitForEndAsync();
        Assert.Equal([HcsEventType.SystemExited], all.Select(e => e.Type));
        Assert.Equal(NotificationType.GracefulExit, ExitStatusOf(all[0]).ExitType);
    }

    [Fact]
    public async Task GuestPanic_DeliversExactlyCrashInitiatedCrashReportSystemExited_WithTheCrashDetails()
    {
        var system = await PrepareAsync(Prepared.Running);
        var events = Record(system);

        FakeSystem(system.Id).Panic("Kernel panic - not syncing: test");
        await events.WaitForAsync(HcsEventType.SystemExited);
        await Within(system.DisposeAsync());

        var all = await events.WaitForEndAsync();
        Assert.Equal([HcsEventType.SystemCrashInitiated, HcsEventType.SystemCrashReport, HcsEventType.SystemExited], all.Select(e => e.Type));
        var report = HcsJson.Deserialize<CrashReport>(all[1].EventData!);
        Assert.Equal(system.Id, report.SystemId);
        Assert.Contains("not syncing: test", report.CrashLog, StringComparison.Ordinal);
        var exit = ExitStatusOf(all[2]);
        Assert.Equal([0xDEADul], Attribution(exit, r => r.GuestCrash).CrashParameters);
        Assert.Equal(WorkerExitDetail.GuestCrash, Attribution(exit, r => r.WorkerExit).Detail);
    }

    [Fact]
    public async Task GuestReset_WithoutStopOnReset_KeepsTheSystemRunning()
    {
        var system = await PrepareAsync(Prepared.Running);
        var wait = system.WaitForExitAsync(Ct);

        FakeSystem(system.Id).Reset();

        await AssertStateAsync(SystemState.Running, system);
        Assert.False(wait.IsCompleted);
        Assert.Equal(0, FakeSystem(system.Id).TerminateCalls);
    }

    [Fact]
    public async Task GuestReset_WithStopOnReset_StopsTheSystem_StoppedOnReset()
    {
        var system = await CreateAsync(stopOnReset: true);
        await Within(system.StartAsync(Ct));

        FakeSystem(system.Id).Reset();

        var exit = await Within(system.WaitForExitAsync(Ct));
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        var worker = Attribution(exit, r => r.WorkerExit);
        Assert.Equal(WorkerExitType.StoppedOnReset, worker.Type);
        Assert.Equal(ExitInitiator.GuestOS, worker.Initiator);
        Assert.True(FakeSystem(system.Id).IsDead);
    }

    [Fact]
    public async Task WorkerKilled_WithAnotherExitCode_ReportsThatExitCode()
    {
        var system = await PrepareAsync(Prepared.Running);

        FakeSystem(system.Id).KillWorker(exitCode: 139);

        var exit = await Within(system.WaitForExitAsync(Ct));
        Assert.Equal(139u, Attribution(exit, r => r.WorkerExit).ExitCode);
    }

    [Fact]
    public async Task WorkerKilled_WhilePaused_IsUnexpectedExit()
    {
        var system = await PrepareAsync(Prepared.Paused);

        FakeSystem(system.Id).KillWorker();

        Assert.Equal(NotificationType.UnexpectedExit, (await Within(system.WaitForExitAsync(Ct))).ExitType);
        await AssertStateAsync(SystemState.Stopped, system);
    }

    [Fact]
    public async Task GuestPowerOff_ScheduledWhilePaused_HappensOnlyAfterResume()
    {
        var clock = Fake.UseFakeClock();
        var system = await CreateAsync("poweroff:30");
        await Within(system.StartAsync(Ct)); // the guest's 30 ms starts now, on the fake clock, which stands still
        await Within(system.PauseAsync(null, Ct));
        clock.Advance(TimeSpan.FromSeconds(1)); // the power-off falls due while the guest is paused
        using var watch = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        watch.CancelAfter(Fixture.Settle);

        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => system.WaitForExitAsync(watch.Token)); // a paused guest does nothing
        await Within(system.ResumeAsync(Ct));

        Assert.Equal(NotificationType.GracefulExit, (await Within(system.WaitForExitAsync(Ct))).ExitType);
    }

    [Fact]
    public async Task ServiceDisposed_KillsEveryFakeSystem()
    {
        var created = await PrepareAsync(Prepared.Created);
        var running = await PrepareAsync(Prepared.Running);
        var paused = await PrepareAsync(Prepared.Paused);
        var survivor = await CreateAsync();
        await Within(survivor.StartAsync(Ct));
        await Within(survivor.DisposeAsync()); // no handle left, still running

        await Within(Fake.Engine.DisposeAsync().AsTask());

        Assert.All([created, running, paused, survivor], s => Assert.True(FakeSystem(s.Id).IsDead, $"{s.Id} is dead"));
        Assert.Equal(0, Fake.Engine.SystemCount);
    }

    [Fact]
    public async Task ServiceDisposed_PendingHangingStart_IsReleasedAndTheFakeIsDead()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, Fake.Scripted(id, new FakeScript { HangStart = true }));
        var start = system.StartAsync(Ct);

        await Within(Fake.Engine.DisposeAsync().AsTask());

        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => start);
        Assert.True(FakeSystem(id).IsDead);
    }

    [Fact]
    public async Task Create_OfAContainerDocument_IsHostedByTheFake()
    {
        var id = Fixture.NewId("ctr");
        const string Document = """{"SchemaVersion":{"Major":2,"Minor":1},"Container":{}}""";

        var system = await CreateFromAsync(id, Document);

        var properties = await Within(system.GetPropertiesAsync(null, Ct));
        Assert.Equal(SystemType.Container, properties.SystemType);
        var containers = await Within(ComputeSystem.EnumerateAsync(Client, new SystemQuery { Types = ["Container"] }, Ct));
        Assert.Equal([id], containers.Select(p => p.Id));
    }

    [Fact]
    public async Task SpinVerb_TheGuestKeepsRunningAndAccruesCpuTimeUntilTerminated()
    {
        Assert.Equal(new GuestBehaviour(GuestVerb.Spin, TimeSpan.Zero), GuestBehaviour.Parse("console=ttyS0 hcstest=spin"));
        var clock = Fake.UseFakeClock();
        var system = await CreateAsync("spin");
        await Within(system.StartAsync(Ct));
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.True(FakeSystem(system.Id).IsRunning);
        var statistics = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics], Ct))).Statistics!;
        Assert.Equal((ulong)TimeSpan.FromSeconds(2).Ticks, statistics.Processor!.TotalRuntime100ns); // every second it ran
        await Within(system.TerminateAsync(Ct));
        Assert.True(FakeSystem(system.Id).IsDead);
    }
}
