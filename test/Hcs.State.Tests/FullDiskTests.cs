// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Engine.State;
using Hcs.Schema;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>
/// A full or read-only state directory loses nothing that was acknowledged: the SQLite store on a real tmpfs the test
/// fills (or remounts read-only), under the engine and the fake backend.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private readonly SmallDisk _disk = new();
    private ServiceLives _lives = null!;

    public ValueTask InitializeAsync()
    {
        _lives = new ServiceLives(_disk.StateDirectory);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _lives.DisposeAsync();
        _disk.Dispose();
    }

    private async Task<ISystemHandle> RunningAsync(string id)
    {
        var handle = await Within(_lives.Session().CreateSystemAsync(id, Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        return handle;
    }

    private void AssertNamesTheFullStateDirectory(HcsException e)
    {
        Assert.Contains(_disk.StateDirectory, e.Message, StringComparison.Ordinal);
        Assert.Contains("no space", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_OnAFullStateDisk_FailsWithDiskFull_NamingTheStateDirectory_AndLeavesNoSystem()
    {
        await RunningAsync("before");
        _disk.Fill();

        var e = await FailsWith(HResults.ERROR_DISK_FULL, () => CreatedAsync(_lives.Session(), "unrecorded"));

        Assert.Equal("ComputeSystem.Create", e.Operation);
        AssertNamesTheFullStateDirectory(e);
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => _lives.Session().OpenSystemAsync("unrecorded", Ct));
        Assert.Throws<KeyNotFoundException>(() => _lives.Fake.Get("unrecorded")); // the backend never built anything
        Assert.True(_lives.Fake.Get("before").IsRunning);

        _disk.Free();
        await using var again = await Within(_lives.Session().CreateSystemAsync("unrecorded", Vm(), Ct));
        Assert.Equal(SystemState.Created, await StateOf(again));
    }

    [Fact]
    public async Task Start_OnAFullStateDisk_FailsWithDiskFull_AndTheSystemStaysCreated()
    {
        await using var handle = await Within(_lives.Session().CreateSystemAsync("unstarted", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));
        _disk.Fill();

        var e = await FailsWith(HResults.ERROR_DISK_FULL, () => handle.StartAsync(null, Ct));

        Assert.Equal("ComputeSystem.Start", e.Operation);
        AssertNamesTheFullStateDirectory(e);
        Assert.Equal(SystemState.Created, await StateOf(handle));
        Assert.Equal(0, _lives.Fake.Get("unstarted").StartCalls);

        _disk.Free();
        await Within(handle.StartAsync(null, Ct));
        Assert.Equal(SystemState.Running, await StateOf(handle));
    }

    [Fact]
    public async Task GrantAccess_OnAFullStateDisk_FailsWithDiskFull_AndGrantsNothing()
    {
        await RunningAsync("private");
        _disk.Fill();

        await FailsWith(HResults.ERROR_DISK_FULL, () => _lives.Session().GrantAccessAsync("private", 1001, Ct));

        await FailsWith(HResults.HCS_E_ACCESS_DENIED, () => _lives.Session(1001).OpenSystemAsync("private", Ct));
    }

    [Fact]
    public async Task AcknowledgedSystems_SurviveACrash_AndARestartWithTheStateDiskStillFull_WhichServesQueriesReadOnly()
    {
        await RunningAsync("running");
        await Within((await Within(_lives.Session().CreateSystemAsync("created", Vm(), Ct))).WaitForCreatedAsync(Ct));
        _disk.Fill();

        var report = await Within(_lives.CrashAndRestartAsync());

        Assert.Equal(new[] { "created", "running" }, report.Adopted.Select(a => a.Id).Order());
        Assert.Empty(report.LeftRunning);
        Assert.True(_lives.Fake.Get("running").IsRunning);
        await using var running = await Within(_lives.Session().OpenSystemAsync("running", Ct));
        Assert.Equal(SystemState.Running, await StateOf(running));
        Assert.Contains("\"running\"", await Within(_lives.Session().EnumerateSystemsAsync(null, Ct)), StringComparison.Ordinal);
        await using var created = await Within(_lives.Session().OpenSystemAsync("created", Ct));
        AssertNamesTheFullStateDirectory(await FailsWith(HResults.ERROR_DISK_FULL, () => created.StartAsync(null, Ct)));
        AssertNamesTheFullStateDirectory(await FailsWith(HResults.ERROR_DISK_FULL, () => CreatedAsync(_lives.Session(), "new")));
        Assert.Equal(SystemState.Created, await StateOf(created));
    }

    [Fact]
    public async Task ARestartOnAReadOnlyStateFileSystem_AdoptsAndServesQueries_AndWritesFailWithWriteProtect()
    {
        await RunningAsync("kept");
        await _lives.Engine.DetachAsync();
        _disk.MakeReadOnly();

        var report = await Within(_lives.RestartAsync());

        Assert.Equal("kept", Assert.Single(report.Adopted).Id);
        await using var kept = await Within(_lives.Session().OpenSystemAsync("kept", Ct));
        Assert.Equal(SystemState.Running, await StateOf(kept));
        var e = await FailsWith(HResults.ERROR_WRITE_PROTECT, () => CreatedAsync(_lives.Session(), "new"));
        Assert.Contains(_disk.StateDirectory, e.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", e.Message, StringComparison.Ordinal);
        Assert.NotNull(await new SqliteStateStore(_disk.StateDirectory).CheckWritableAsync(Ct));
    }
}

/// <summary>The engine caught with its state store failing at one precise transition (<see cref="FaultyStore"/>).</summary>
public sealed class DurableOutcomeTests
{
    private static (ComputeEngine Engine, FakeBackend Fake, IComputeSession Session) NewEngine(IStateStore store, ListLogger? log = null)
    {
        var fake = new FakeBackend();
        var engine = new ComputeEngine([fake], new EngineOptions { Store = store, Logger = log ?? new ListLogger() });
        return (engine, fake, engine.OpenSession(new ClientIdentity("t", 1000)));
    }

    [Fact]
    public async Task Create_WhoseCreatedRecordCannotBeWritten_Fails_AndReleasesWhatTheBackendBuilt()
    {
        var store = new FaultyStore(r => r.State == SystemRecordState.Created);
        var (engine, fake, session) = NewEngine(store);
        await using var _ = engine;

        await FailsWith(HResults.ERROR_DISK_FULL, () => CreatedAsync(session, "half"));

        Assert.True(fake.Get("half").IsDead, "the backend's system is released");
        await FailsWith(HResults.HCS_E_SYSTEM_NOT_FOUND, () => session.OpenSystemAsync("half", Ct));
        await engine.DetachAsync();
        Assert.DoesNotContain(store.Records, r => r.Id == "half");
    }

    [Fact]
    public async Task Start_WhoseRunningRecordCannotBeWritten_Fails_AndTheSystemIsTerminated_NeverLeftRunningUnrecorded()
    {
        var store = new FaultyStore(_ => false);
        var (engine, fake, session) = NewEngine(store);
        await using var _ = engine;
        await using var handle = await Within(session.CreateSystemAsync("unlucky", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));
        store.Fail = r => r.State == SystemRecordState.Running;

        var e = await FailsWith(HResults.ERROR_DISK_FULL, () => handle.StartAsync(null, Ct));

        Assert.Equal("ComputeSystem.Start", e.Operation);
        var exit = await ExitOf(handle);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(SystemExitDetail.ServiceStop, Assert.Single(exit.Attribution!).SystemExit!.Detail);
        Assert.True(fake.Get("unlucky").IsDead);
        Assert.NotEqual(SystemRecordState.Running, Assert.Single(store.Records).State);
    }

    [Fact]
    public async Task PauseResumeAndStops_WhoseRecordsCannotBeWritten_StillSucceed_AndTheFailuresAreLogged()
    {
        var store = new FaultyStore(_ => false);
        var log = new ListLogger();
        var (engine, fake, session) = NewEngine(store, log);
        await using var _ = engine;
        await using var handle = await Within(session.CreateSystemAsync("hinted", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        store.Fail = _ => true;

        await Within(handle.PauseAsync(null, Ct));
        Assert.True(fake.Get("hinted").IsPaused);
        await Within(handle.ResumeAsync(null, Ct));
        await Within(handle.ShutDownAsync(null, Ct));

        Assert.Equal(NotificationType.GracefulExit, (await ExitOf(handle)).ExitType);
        Assert.Contains(log.Entries, e => e.Id.Id == 1001 && e.Message.Contains("hinted", StringComparison.Ordinal) && e.Exception is HcsException { HResult: HResults.ERROR_DISK_FULL });
    }
}
