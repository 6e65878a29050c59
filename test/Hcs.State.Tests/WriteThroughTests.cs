// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Engine.State;
using Hcs.Schema;
using Microsoft.Extensions.Logging;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>The engine writes every transition through to its store, and survives a store that fails.</summary>
public sealed class WriteThroughTests : IAsyncLifetime
{
    private readonly ServiceLives _lives = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _lives.DisposeAsync();

    [Fact]
    public async Task Lifecycle_IsRecordedAtEveryTransition_AndTheRecordGoesWithTheSystem()
    {
        var session = _lives.Session(uid: 1000, name: "writer");
        var handle = await Within(session.CreateSystemAsync("wt", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));

        var created = Assert.Single(await _lives.RecordsAsync());
        Assert.Equal(SystemRecordState.Created, created.State);
        Assert.Equal(1000u, created.OwnerUid);
        Assert.Equal("writer", created.ClientName);
        Assert.Equal("fake", created.Backend);
        Assert.Equal(Vm(), created.Document);
        Assert.Equal(_lives.Fake.Get("wt").RuntimeFacts, created.RuntimeFacts);
        Assert.Equal(HcsJson.Deserialize<Properties>(await handle.GetPropertiesAsync(null, Ct)).RuntimeId, created.RuntimeId);
        Assert.Null(created.StartedAt);

        await Within(handle.StartAsync(null, Ct));
        var running = Assert.Single(await _lives.RecordsAsync());
        Assert.Equal(SystemRecordState.Running, running.State);
        Assert.NotNull(running.StartedAt);

        await Within(handle.PauseAsync(null, Ct));
        Assert.Equal(SystemRecordState.Paused, Assert.Single(await _lives.RecordsAsync()).State);
        await Within(handle.ResumeAsync(null, Ct));
        Assert.Equal(SystemRecordState.Running, Assert.Single(await _lives.RecordsAsync()).State);

        await Within(handle.TerminateAsync(null, Ct));
        var stopped = await _lives.RecordWhenAsync("wt", r => r?.State == SystemRecordState.Stopped);
        Assert.Equal(NotificationType.ForcedExit, HcsJson.Deserialize<SystemExitStatus>(stopped!.ExitStatus!).ExitType);
        Assert.NotNull(stopped.StoppedAt);

        await handle.DisposeAsync();
        Assert.Null(await _lives.RecordWhenAsync("wt", r => r is null));
    }

    [Fact]
    public async Task Start_IsRecordedStarting_BeforeTheBackendStarts()
    {
        _lives.Fake.Script("slow", new FakeScript { HangStart = true });
        var handle = await Within(_lives.Session().CreateSystemAsync("slow", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));

        var start = handle.StartAsync(null, Ct);
        await Within(WaitUntil(() => _lives.Fake.Get("slow").StartCalls == 1));

        Assert.Equal(SystemRecordState.Starting, Assert.Single(await _lives.RecordsAsync()).State);
        await Within(handle.TerminateAsync(null, Ct));
        await FailsWith(HResults.HCS_E_TERMINATED, () => start);
    }

    [Fact]
    public async Task Grant_IsRecordedBeforeTheCallCompletes()
    {
        var session = _lives.Session(uid: 1000);
        await using var handle = await Within(session.CreateSystemAsync("shared", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));

        await Within(session.GrantAccessAsync("shared", 1001, Ct));
        await Within(session.GrantAccessAsync("shared", 1002, Ct));

        Assert.Equal([1001u, 1002u], Assert.Single(await _lives.RecordsAsync()).Grants);
    }

    [Fact]
    public async Task FailedConstruction_LeavesNoRecord()
    {
        _lives.Fake.Script("broken", new FakeScript { FailCreate = HResults.E_FAIL });
        var handle = await Within(_lives.Session().CreateSystemAsync("broken", Vm(), Ct));
        await FailsWith(HResults.E_FAIL, () => handle.WaitForCreatedAsync(Ct));

        Assert.Null(await _lives.RecordWhenAsync("broken", r => r is null));
    }

    [Fact]
    public async Task DisposingTheEngine_TerminatesItsSystems_AndDeletesTheirRecords()
    {
        var handle = await Within(_lives.Session().CreateSystemAsync("gone", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        Assert.Single(await _lives.RecordsAsync());

        await _lives.Engine.DisposeAsync();

        Assert.True(_lives.Fake.Get("gone").IsDead);
        Assert.Empty(await _lives.RecordsAsync());
    }

    [Fact]
    public async Task AStoreThatCannotWrite_FailsCreate_WithItsErrorWrapped_AndLogsIt()
    {
        var store = new FailingStore();
        var log = new ListLogger();
        var fake = new FakeBackend();
        await using var engine = new ComputeEngine([fake], new EngineOptions { Store = store, Logger = log });
        var session = engine.OpenSession(new ClientIdentity("t", 1000));

        var e = await FailsWith(HResults.E_FAIL, () => CreatedAsync(session, "unrecorded"));

        Assert.Equal("ComputeSystem.Create", e.Operation);
        Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => fake.Get("unrecorded"));
        Assert.Contains(log.Entries, l => l.Level == LogLevel.Error && l.Id.Id == 1001 && l.Message.Contains("unrecorded", StringComparison.Ordinal) && l.Exception is IOException);
    }

    [Fact]
    public async Task AStart_WhoseGuestPowersOffWhileTheStartIsBeingRecorded_StillSucceeds()
    {
        var store = new GatedStore(r => r.State == SystemRecordState.Running);
        var fake = new FakeBackend();
        await using var engine = new ComputeEngine([fake], new EngineOptions { Store = store });
        var session = engine.OpenSession(new ClientIdentity("t", 1000));
        var handle = await Within(session.CreateSystemAsync("brief", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));
        var exited = handle.WaitForExitAsync(Ct);
        var start = handle.StartAsync(null, Ct);
        await Within(store.Held); // the backend started it; the engine is recording "Running"

        fake.Get("brief").PowerOff();
        await Within(exited);
        store.Release();

        // The Start happened: the stop came after the backend's call returned, so it is no "stopped while pending".
        await Within(start);
        Assert.Equal(NotificationType.GracefulExit, (await ExitOf(handle)).ExitType);
    }

    [Fact]
    public async Task RecoverAsync_RunsOnce()
    {
        await _lives.Engine.RecoverAsync(Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => _lives.Engine.RecoverAsync(Ct));
    }

    [Fact]
    public async Task RecoverAsync_WithoutAStore_ReportsNothing_AndTouchesNoBackend()
    {
        var fake = new FakeBackend();
        await using var first = new ComputeEngine([fake]);
        var handle = await Within(first.OpenSession(new ClientIdentity("t")).CreateSystemAsync("alive", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        await using var second = new ComputeEngine([fake]);

        var report = await second.RecoverAsync(Ct);

        Assert.Equal("adopted 0, exited while down 0, terminated half-started 0, terminate completed 0, terminated without handles 0, stopped kept 0, expired 0, backend missing 0, orphans cleaned 0, left running 0, problems 0",
            report.ToString());
        Assert.True(fake.Get("alive").IsRunning);
    }

    internal static async Task WaitUntil(Func<bool> condition)
    {
        while (!condition())
        {
            await Task.Delay(10, Ct);
        }
    }
}
