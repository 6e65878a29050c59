// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client.Tests;

/// <summary>The idiomatic async layer, <see cref="ComputeSystem"/>.</summary>
public sealed class ComputeSystemTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lifecycle_CreateStartPauseResumeTerminate_ReportsEachState()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();

        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);
        Assert.Equal(id, system.Id);
        Assert.Equal(SystemState.Created, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);

        await system.StartAsync(Ct);
        Assert.Equal(SystemState.Running, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.True(env.Fake.Get(id).IsRunning);

        await system.PauseAsync(cancellationToken: Ct);
        Assert.Equal(SystemState.Paused, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.True(env.Fake.Get(id).IsPaused);

        await system.ResumeAsync(Ct);
        Assert.Equal(SystemState.Running, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.False(env.Fake.Get(id).IsPaused);

        await system.TerminateAsync(Ct);
        var stopped = await system.GetPropertiesAsync(cancellationToken: Ct);
        Assert.Equal(SystemState.Stopped, stopped.State);
        Assert.Equal(NotificationType.ForcedExit, stopped.ExitType);
        Assert.Equal(NotificationType.ForcedExit, (await system.WaitForExitAsync(Ct)).ExitType);
    }

    [Fact]
    public async Task CreateAsync_FromATypedDocument_Works()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var document = HcsJson.ParseComputeSystem(TestEnv.EmptyVm);

        await using var system = await ComputeSystem.CreateAsync(env.Client, id, document, Ct);

        var properties = await system.GetPropertiesAsync([SystemPropertyType.TerminateOnLastHandleClosed], Ct);
        Assert.Equal(id, properties.Id);
        Assert.Equal("ClientTests", properties.Owner);
        Assert.False(properties.TerminateOnLastHandleClosed);
    }

    [Fact]
    public async Task PauseAsync_OfACreatedSystem_ThrowsInvalidStateLabelledComputeSystemPause()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);

        var error = await Assert.ThrowsAsync<HcsException>(() => system.PauseAsync(cancellationToken: Ct));

        Assert.Equal(HResults.HCS_E_INVALID_STATE, error.HResult);
        Assert.Equal("ComputeSystem.Pause", error.Operation);
        Assert.Equal(id, error.SystemId);
        Assert.Equal(HResults.HCS_E_INVALID_STATE, error.Result.Error);
    }

    [Fact]
    public async Task PauseAsync_WhenTheBackendFails_ThrowsTheBackendsHResultLabelledComputeSystemPause()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        env.Fake.Script(id, new FakeScript { FailPause = HResults.HCS_E_CONNECTION_TIMEOUT });
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);
        await system.StartAsync(Ct);

        var error = await Assert.ThrowsAsync<HcsException>(() => system.PauseAsync(cancellationToken: Ct));

        Assert.Equal(HResults.HCS_E_CONNECTION_TIMEOUT, error.HResult);
        Assert.Equal(HResults.HCS_E_CONNECTION_TIMEOUT, error.Result.Error);
        Assert.Equal(id, error.SystemId);
        Assert.Equal(SystemState.Running, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.Equal("ComputeSystem.Pause", error.Operation);
    }

    [Fact]
    public async Task StartAsync_Twice_ThrowsInvalidStateLabelledComputeSystemStart()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);
        await system.StartAsync(Ct);

        var error = await Assert.ThrowsAsync<HcsException>(() => system.StartAsync(Ct));

        Assert.Equal(HResults.HCS_E_INVALID_STATE, error.HResult);
        Assert.Equal("ComputeSystem.Start", error.Operation);
        Assert.Equal(id, error.SystemId);
    }

    [Fact]
    public async Task StartAsync_WhenTheBackendFails_ThrowsTheBackendsHResultLabelledComputeSystemStart()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        env.Fake.Script(id, new FakeScript { FailStart = HResults.HCS_E_CONNECT_FAILED });
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);

        var error = await Assert.ThrowsAsync<HcsException>(() => system.StartAsync(Ct));

        Assert.Equal(HResults.HCS_E_CONNECT_FAILED, error.HResult);
        Assert.Equal(id, error.SystemId);
        Assert.Equal(SystemState.Created, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.Equal("ComputeSystem.Start", error.Operation);
    }

    [Fact]
    public async Task CreateAsync_WithAnIdInUse_ThrowsSystemAlreadyExists()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        await using var first = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);

        var error = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct));

        Assert.Equal(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, error.HResult);
        Assert.Equal("ComputeSystem.Create", error.Operation);
        Assert.Equal(id, error.SystemId);
    }

    [Fact]
    public async Task CreateAsync_WhenConstructionFails_ThrowsAndTheIdIsFree()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        env.Fake.Script(id, new FakeScript { FailCreate = HResults.ERROR_NOT_SUPPORTED });

        var error = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct));

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, error.HResult);
        Assert.Equal(id, error.SystemId);
        await using var again = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);
        Assert.Equal(SystemState.Created, (await again.GetPropertiesAsync(cancellationToken: Ct)).State);
    }

    [Fact]
    public async Task OpenAsync_OfAnUnknownId_ThrowsSystemNotFound()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();

        var error = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.OpenAsync(env.Client, id, Ct));

        Assert.Equal(HResults.HCS_E_SYSTEM_NOT_FOUND, error.HResult);
        Assert.Equal("ComputeSystem.Open", error.Operation);
        Assert.Equal(id, error.SystemId);
    }

    [Fact]
    public async Task EventsAsync_YieldsSystemExited()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);
        await system.StartAsync(Ct);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bound.CancelAfter(TestEnv.Bound);
        var seen = new List<HcsEventType>();
        await using var events = system.EventsAsync(bound.Token).GetAsyncEnumerator(bound.Token);
        var first = events.MoveNextAsync(); // subscribes before the guest acts

        env.Fake.Get(id).DropGuestConnection();
        env.Fake.Get(id).PowerOff();

        HcsEvent? exited = null;
        if (await first)
        {
            do
            {
                seen.Add(events.Current.Type);
                if (events.Current.Type == HcsEventType.SystemExited)
                {
                    exited = events.Current;
                    break;
                }
            }
            while (await events.MoveNextAsync());
        }

        Assert.NotNull(exited);
        Assert.Equal([HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemExited], seen);
        Assert.Equal(NotificationType.GracefulExit, HcsJson.Deserialize<SystemExitStatus>(exited.EventData!).ExitType);
    }

    [Fact]
    public async Task EventsAsync_ASecondSubscription_IsCallbackAlreadySet()
    {
        await using var env = new TestEnv();
        await using var system = await ComputeSystem.CreateAsync(env.Client, TestEnv.NewId(), TestEnv.EmptyVm, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var first = system.EventsAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        var pending = first.MoveNextAsync();

        var error = await Assert.ThrowsAsync<HcsException>(async () =>
        {
            await foreach (var _ in system.EventsAsync(Ct))
            {
            }
        });

        Assert.Equal(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, error.HResult);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
    }

    [Fact]
    public async Task EnumerateAsync_ListsSystems_AndFiltersByQuery()
    {
        await using var env = new TestEnv();
        var a = TestEnv.NewId("a");
        var b = TestEnv.NewId("b");
        await using var systemA = await ComputeSystem.CreateAsync(env.Client, a, TestEnv.EmptyVm, Ct);
        await using var systemB = await ComputeSystem.CreateAsync(env.Client, b, TestEnv.EmptyVm, Ct);
        await systemB.StartAsync(Ct);

        var all = await ComputeSystem.EnumerateAsync(env.Client, cancellationToken: Ct);
        var onlyB = await ComputeSystem.EnumerateAsync(env.Client, new SystemQuery { Ids = [b] }, Ct);

        Assert.Equal([a, b], all.Select(p => p.Id!).Order(StringComparer.Ordinal));
        var single = Assert.Single(onlyB);
        Assert.Equal(b, single.Id);
        Assert.Equal(SystemState.Running, single.State);
        Assert.Equal(SystemType.VirtualMachine, single.SystemType);
    }

    [Fact]
    public async Task ComputeSystemAndFlatApi_SeeTheSameSystem()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        await using var system = await ComputeSystem.CreateAsync(env.Client, id, TestEnv.EmptyVm, Ct);

        TestEnv.Ok(HcsOpenComputeSystem(id, GENERIC_ALL, out var flat));
        using var closeFlat = flat;
        TestEnv.Run(op => HcsStartComputeSystem(flat, op, null));

        Assert.Equal(SystemState.Running, (await system.GetPropertiesAsync(cancellationToken: Ct)).State);
    }

    [Fact]
    public async Task SubmitWerReportAsync_OfATypedReport_ReturnsThePathOfTheFiledReport()
    {
        await using var env = new TestEnv();
        var report = new CrashReport { SystemId = "typed", ActivityId = Guid.NewGuid(), CrashParameters = [0x1E, 0, 0, 0, 0], CrashLog = "oops" };

        var path = await ComputeSystem.SubmitWerReportAsync(env.Client, report, Ct);

        Assert.Equal(env.CrashDirectory, Path.GetDirectoryName(path));
        Assert.Contains(report.ActivityId.Value.ToString("D"), path, StringComparison.Ordinal);
        Assert.Equal(report, HcsJson.Deserialize<CrashReport>(await File.ReadAllTextAsync(path, Ct)) with { CrashParameters = report.CrashParameters });
        Assert.Equal(report.CrashParameters, HcsJson.Deserialize<CrashReport>(await File.ReadAllTextAsync(path, Ct)).CrashParameters);
        var e = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.SubmitWerReportAsync(env.Client, new CrashReport { CrashLog = "x" }, Ct));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.SystemId", e.Message, StringComparison.Ordinal);
    }
}
