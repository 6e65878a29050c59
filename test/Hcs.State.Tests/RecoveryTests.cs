// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine.State;
using Hcs.Schema;
using Microsoft.Data.Sqlite;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>A restarted service re-adopts what is alive, records what ended, and ends what was half-started.</summary>
public sealed class RecoveryTests : IAsyncLifetime
{
    private readonly ServiceLives _lives = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _lives.DisposeAsync();

    private async Task<ISystemHandle> RunningAsync(string id, string? document = null, uint uid = 1000)
    {
        var handle = await Within(_lives.Session(uid).CreateSystemAsync(id, document ?? Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        return handle;
    }

    [Fact]
    public async Task RunningSystem_AfterACrash_IsReadopted_AndANewSessionShutsItDown()
    {
        await RunningAsync("vm");

        var report = await _lives.CrashAndRestartAsync();

        Assert.Equal("vm", Assert.Single(report.Adopted).Id);
        Assert.Equal(1, _lives.Fake.Get("vm").Adoptions);
        await using var handle = await Within(_lives.Session().OpenSystemAsync("vm", Ct));
        Assert.Equal(SystemState.Running, await StateOf(handle));
        var events = EventsUntil(handle, HcsEventType.SystemExited);
        await Within(handle.ShutDownAsync(null, Ct));
        var exited = Assert.Single(await events, e => e.Type == HcsEventType.SystemExited);
        Assert.Equal(NotificationType.GracefulExit, HcsJson.Deserialize<SystemExitStatus>(exited.EventData!).ExitType);
        Assert.Equal(1, _lives.Fake.Get("vm").ShutdownRequests);
    }

    [Fact]
    public async Task PausedSystem_StaysPaused_AndCanBeResumed()
    {
        var first = await RunningAsync("paused");
        await Within(first.PauseAsync(null, Ct));

        var report = await _lives.CrashAndRestartAsync();

        Assert.Contains("Paused", Assert.Single(report.Adopted).Detail, StringComparison.Ordinal);
        await using var handle = await Within(_lives.Session().OpenSystemAsync("paused", Ct));
        Assert.Equal(SystemState.Paused, await StateOf(handle));
        Assert.True(_lives.Fake.Get("paused").IsPaused);
        await Within(handle.ResumeAsync(null, Ct));
        Assert.Equal(SystemState.Running, await StateOf(handle));
        Assert.Equal(SystemRecordState.Running, (await _lives.RecordsAsync()).Single().State);
    }

    [Fact]
    public async Task CreatedSystem_ComesBackCreated_AndCanBeStarted()
    {
        var first = await Within(_lives.Session().CreateSystemAsync("fresh", Vm(), Ct));
        await Within(first.WaitForCreatedAsync(Ct));

        await _lives.CrashAndRestartAsync();

        await using var handle = await Within(_lives.Session().OpenSystemAsync("fresh", Ct));
        Assert.Equal(SystemState.Created, await StateOf(handle));
        await Within(handle.StartAsync(null, Ct));
        Assert.True(_lives.Fake.Get("fresh").IsRunning);
    }

    [Fact]
    public async Task SystemKilledWhileTheServiceWasDown_IsReportedAsUnexpectedExit_ToAReopenedHandle()
    {
        await RunningAsync("doomed");
        await _lives.CrashAsync();
        _lives.Fake.Get("doomed").KillWorker();

        var report = await _lives.RestartAsync();

        Assert.Equal("doomed", Assert.Single(report.ExitedWhileDown).Id);
        Assert.Empty(report.Adopted);
        var handle = await Within(_lives.Session().OpenSystemAsync("doomed", Ct));
        var exited = Assert.Single(await EventsUntil(handle, HcsEventType.SystemExited));
        Assert.Equal(HcsEventType.SystemExited, exited.Type);
        var exit = HcsJson.Deserialize<SystemExitStatus>(exited.EventData!);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(HResults.HCS_E_UNEXPECTED_EXIT, exit.Status);
        Assert.Equal(NotificationType.UnexpectedExit, (await ExitOf(handle)).ExitType);
        Assert.Equal(SystemState.Stopped, await StateOf(handle));

        // A stopped system goes away when the first handle opened on it closes; its id is free again.
        await handle.DisposeAsync();
        Assert.Null(await _lives.RecordWhenAsync("doomed", r => r is null));
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("doomed", Ct));
        await using var again = await Within(_lives.Session().CreateSystemAsync("doomed", Vm(), Ct));
        await Within(again.WaitForCreatedAsync(Ct));
    }

    [Fact]
    public async Task GuestThatPoweredOffWhileTheServiceWasDown_IsAGracefulExit_WhenTheBackendKnowsTheCause()
    {
        await RunningAsync("quiet");
        await _lives.Engine.DetachAsync();
        _lives.Fake.Get("quiet").PowerOff();

        var report = await _lives.RestartAsync();

        Assert.Equal("quiet", Assert.Single(report.ExitedWhileDown).Id);
        await using var handle = await Within(_lives.Session().OpenSystemAsync("quiet", Ct));
        var exit = await ExitOf(handle);
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(ExitInitiator.GuestOS, exit.Attribution![0].SystemExit!.Initiator);
    }

    [Fact]
    public async Task SystemStartingWhenTheServiceDied_IsTerminated_AndNeverDuplicated()
    {
        _lives.Fake.Script("half", new FakeScript { HangStart = true });
        var first = await Within(_lives.Session().CreateSystemAsync("half", Vm(), Ct));
        await Within(first.WaitForCreatedAsync(Ct));
        _ = first.StartAsync(null, Ct);
        await Within(WriteThroughTests.WaitUntil(() => _lives.Fake.Get("half").StartCalls == 1));
        var original = _lives.Fake.Get("half");

        var report = await _lives.CrashAndRestartAsync();

        var entry = Assert.Single(report.TerminatedHalfStarted);
        Assert.Equal("half", entry.Id);
        Assert.Contains("Starting", entry.Detail, StringComparison.Ordinal);
        Assert.True(original.IsDead);
        Assert.Equal(1, original.TerminateCalls);
        Assert.Empty(report.Adopted);

        // Kept as a stopped system, so the client that reconnects learns what happened; the id is taken until then.
        var handle = await Within(_lives.Session().OpenSystemAsync("half", Ct));
        var exit = await ExitOf(handle);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(SystemExitDetail.ServiceStop, exit.Attribution![0].SystemExit!.Detail);
        await FailsWith(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, () => _lives.Session().CreateSystemAsync("half", Vm(), Ct));
        await handle.DisposeAsync();

        await using var again = await Within(_lives.Session().CreateSystemAsync("half", Vm(), Ct));
        await Within(again.StartAsync(null, Ct));
        Assert.NotSame(original, _lives.Fake.Get("half"));
        Assert.Single(_lives.Fake.Systems.Values, s => !s.IsDead);
    }

    [Fact]
    public async Task SystemCreatingWhenTheServiceDied_IsForgotten_AndItsIdIsFree()
    {
        _lives.Fake.Script("unborn", new FakeScript { CreateDelay = TimeSpan.FromSeconds(30) });
        await Within(_lives.Session().CreateSystemAsync("unborn", Vm(), Ct));
        Assert.Equal(SystemRecordState.Creating, (await _lives.RecordWhenAsync("unborn", r => r is not null))!.State);

        var report = await _lives.CrashAndRestartAsync();

        Assert.Equal("unborn", Assert.Single(report.TerminatedHalfStarted).Id);
        Assert.Empty(await _lives.RecordsAsync());
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("unborn", Ct));
        await using var again = await Within(_lives.Session().CreateSystemAsync("unborn", Vm(), Ct));
        await Within(again.StartAsync(null, Ct));
    }

    [Fact]
    public async Task SystemTheBackendCannotReadopt_IsEnded_ButItsLiveWorkerIsLeftRunningAndReported()
    {
        _lives.Fake.Script("stubborn", new FakeScript { FailAdopt = HResults.E_FAIL });
        await RunningAsync("stubborn");

        var report = await _lives.CrashAndRestartAsync();

        Assert.Contains("re-adoption failed", Assert.Single(report.TerminatedHalfStarted).Detail, StringComparison.Ordinal);
        Assert.Empty(report.OrphansCleaned);
        Assert.StartsWith("fake: fake system stubborn ", Assert.Single(report.LeftRunning), StringComparison.Ordinal);
        Assert.True(_lives.Fake.Get("stubborn").IsRunning);
        await using var handle = await Within(_lives.Session().OpenSystemAsync("stubborn", Ct));
        Assert.Equal(NotificationType.UnexpectedExit, (await ExitOf(handle)).ExitType);
    }

    [Fact]
    public async Task OwnerAndGrants_SurviveARestart_AndAccessIsStillChecked()
    {
        var session = _lives.Session(uid: 1000);
        await RunningAsync("mine", uid: 1000);
        await Within(session.GrantAccessAsync("mine", 1001, Ct));

        await _lives.CrashAndRestartAsync();

        await FailsWith(HResults.HCS_E_ACCESS_DENIED, () => _lives.Session(uid: 1002).OpenSystemAsync("mine", Ct));
        Assert.Equal("[]", await Within(_lives.Session(uid: 1002).EnumerateSystemsAsync(null, Ct)));
        await using var owner = await Within(_lives.Session(uid: 1000).OpenSystemAsync("mine", Ct));
        await using var granted = await Within(_lives.Session(uid: 1001).OpenSystemAsync("mine", Ct));
        await using var root = await Within(_lives.Session(uid: 0).OpenSystemAsync("mine", Ct));
        await FailsWith(HResults.HCS_E_ACCESS_DENIED, () => _lives.Session(uid: 1001).GrantAccessAsync("mine", 1002, Ct));
        var record = Assert.Single(await _lives.RecordsAsync());
        Assert.Equal(1000u, record.OwnerUid);
        Assert.Equal([1001u], record.Grants);
    }

    [Fact]
    public async Task SystemThatTerminatesOnLastHandleClosed_IsTerminated_ItsHandlesDiedWithTheService()
    {
        await RunningAsync("ephemeral", Vm(terminateOnLastHandleClosed: true));
        await RunningAsync("durable");

        var report = await _lives.CrashAndRestartAsync();

        Assert.Equal("ephemeral", Assert.Single(report.TerminatedNoHandles).Id);
        Assert.Equal("durable", Assert.Single(report.Adopted).Id);
        Assert.True(_lives.Fake.Get("ephemeral").IsDead);
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("ephemeral", Ct));
        Assert.Null(await _lives.RecordWhenAsync("ephemeral", r => r is null));
    }

    [Fact]
    public async Task TerminateInFlightWhenTheServiceDied_IsCompleted_AsAForcedExit()
    {
        await RunningAsync("ending");
        await _lives.Engine.DetachAsync();
        var record = Assert.Single(await _lives.RecordsAsync());
        await _lives.WriteRecordAsync(record with { State = SystemRecordState.Stopping });

        var report = await _lives.RestartAsync();

        Assert.Equal("ending", Assert.Single(report.TerminateCompleted).Id);
        Assert.True(_lives.Fake.Get("ending").IsDead);
        await using var handle = await Within(_lives.Session().OpenSystemAsync("ending", Ct));
        Assert.Equal(NotificationType.ForcedExit, (await ExitOf(handle)).ExitType);
    }

    [Fact]
    public async Task SystemAlreadyStoppedWithAHandleOpen_IsKept_UntilAReopenedHandleCloses()
    {
        var first = await RunningAsync("stopped");
        await Within(first.TerminateAsync(null, Ct));
        await _lives.RecordWhenAsync("stopped", r => r?.State == SystemRecordState.Stopped);

        var report = await _lives.CrashAndRestartAsync();

        Assert.Equal("stopped", Assert.Single(report.Stopped).Id);
        var handle = await Within(_lives.Session().OpenSystemAsync("stopped", Ct));
        Assert.Equal(NotificationType.ForcedExit, (await ExitOf(handle)).ExitType);
        await handle.DisposeAsync();
        Assert.Null(await _lives.RecordWhenAsync("stopped", r => r is null));
    }

    [Fact]
    public async Task StoppedRecordOlderThanTheRetention_IsDropped()
    {
        var old = DateTimeOffset.UtcNow.AddDays(-30);
        await _lives.Engine.DetachAsync();
        await _lives.WriteRecordAsync(new SystemRecord
        {
            Id = "ancient",
            OwnerUid = 1000,
            ClientName = "t",
            Document = Vm(),
            Backend = "fake",
            State = SystemRecordState.Stopped,
            ExitStatus = """{"Status":0,"ExitType":"GracefulExit"}""",
            CreatedAt = old,
            StoppedAt = old,
            UpdatedAt = old,
        });

        var report = await _lives.RestartAsync();

        Assert.Equal("ancient", Assert.Single(report.Expired).Id);
        Assert.Empty(await _lives.RecordsAsync());
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("ancient", Ct));
    }

    [Fact]
    public async Task RecordOfABackendThisServiceDoesNotRun_IsReported_AndKept()
    {
        await _lives.Engine.DetachAsync();
        var now = DateTimeOffset.UtcNow;
        await _lives.WriteRecordAsync(new SystemRecord
        {
            Id = "elsewhere",
            OwnerUid = 1000,
            ClientName = "t",
            Document = Vm(),
            Backend = "qemu",
            RuntimeFacts = "{}",
            State = SystemRecordState.Running,
            CreatedAt = now,
            UpdatedAt = now,
        });

        var report = await _lives.RestartAsync();

        var missing = Assert.Single(report.BackendMissing);
        Assert.Equal(("elsewhere", "qemu"), (missing.Id, missing.Backend));
        Assert.Equal("elsewhere", Assert.Single(await _lives.RecordsAsync()).Id);
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("elsewhere", Ct));
    }

    [Fact]
    public async Task HalfStartedSystemTheBackendCannotReadopt_IsEndedByTheOrphanSweep_AsItsRecordSaysItMustNotRunOn()
    {
        _lives.Fake.Script("halfway", new FakeScript { FailAdopt = HResults.E_FAIL });
        await RunningAsync("halfway");
        await _lives.CrashAsync();
        var record = (await _lives.RecordsAsync()).Single(r => r.Id == "halfway");
        await _lives.WriteRecordAsync(record with { State = SystemRecordState.Starting });

        var report = await _lives.RestartAsync();

        Assert.StartsWith("fake: fake system halfway ", Assert.Single(report.OrphansCleaned), StringComparison.Ordinal);
        Assert.Empty(report.LeftRunning);
        Assert.True(_lives.Fake.Get("halfway").IsDead);
    }

    [Fact]
    public async Task LiveSystemWithoutARecord_IsLeftRunning_AndReported_NeverKilledAsAnOrphan()
    {
        await RunningAsync("kept");
        await RunningAsync("stray");
        await _lives.CrashAsync();
        await _lives.DeleteRecordAsync("stray");

        var report = await _lives.RestartAsync();

        Assert.Empty(report.OrphansCleaned);
        Assert.Equal("fake: fake system stray (instance " + _lives.Fake.Get("stray").InstanceId + ") is alive with no record", Assert.Single(report.LeftRunning));
        Assert.Contains("left running: fake: fake system stray", report.Describe(), StringComparison.Ordinal);
        Assert.Contains(_lives.Log.Entries, e => e.Id.Id == 1016 && e.Message.Contains("stray", StringComparison.Ordinal));
        Assert.True(_lives.Fake.Get("stray").IsRunning);
        Assert.True(_lives.Fake.Get("kept").IsRunning);
    }

    [Fact]
    public async Task UnreadableStore_FailsRecovery_AndCleansNothing()
    {
        await RunningAsync("precious");
        await _lives.CrashAsync();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_lives.StateDirectory, "state.db")};Pooling=False"))
        {
            await connection.OpenAsync(Ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE schema_version SET version = 99";
            await command.ExecuteNonQueryAsync(Ct);
        }

        var e = await Assert.ThrowsAsync<HcsException>(_lives.RestartAsync);

        Assert.Equal(HResults.E_FAIL, e.HResult);
        Assert.Contains("schema version 99", e.Message, StringComparison.Ordinal);
        Assert.False(_lives.Fake.Get("precious").IsDead);
    }

    [Fact]
    public async Task SystemSurvivesTwoRestarts_ItsRecordKeepsWhatTheBackendNeeds()
    {
        await RunningAsync("veteran");

        await _lives.CrashAndRestartAsync();
        var report = await _lives.DetachAndRestartAsync();

        Assert.Equal("veteran", Assert.Single(report.Adopted).Id);
        Assert.Equal(2, _lives.Fake.Get("veteran").Adoptions);
        var record = Assert.Single(await _lives.RecordsAsync());
        Assert.Equal(SystemRecordState.Running, record.State);
        Assert.Equal(_lives.Fake.Get("veteran").RuntimeFacts, record.RuntimeFacts);
    }
}
