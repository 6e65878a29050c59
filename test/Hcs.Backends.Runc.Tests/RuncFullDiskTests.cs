// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;
using Hcs.State;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// A running container and a full state disk (a real tmpfs the test fills) across a restart of the service: the
/// engine over the SQLite store and the real runc backend, as hcsd runs them.
/// </summary>
public sealed class RuncFullDiskTests : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);
    private readonly SmallDisk _disk = new();
    private readonly List<ComputeEngine> _engines = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RuncSettings Settings => new() { RuntimeRoot = _root, CgroupParent = RuncAdoptionTests.CgroupParent };

    private ComputeEngine NewEngine()
    {
        Requires.Containers();
        var engine = new ComputeEngine([new RuncBackend(Settings)], new EngineOptions { Store = new SqliteStateStore(_disk.StateDirectory) });
        _engines.Add(engine);
        return engine;
    }

    private static string Document() => HcsJson.Serialize(RuncBackendFixture.Document());

    private static async Task<SystemState?> StateOf(ISystemHandle handle) =>
        HcsJson.Deserialize<Properties>(await handle.GetPropertiesAsync(null, Ct).WaitAsync(s_timeout, Ct)).State;

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        await new RuncBackend(Settings).CleanOrphansAsync(new HashSet<string>(), killRunning: true, CancellationToken.None);
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        _disk.Dispose();
    }

    [Fact]
    public async Task RunningContainer_SurvivesARestartWithAFullStateDisk_IsReadopted_AndNewWorkIsRefusedWithDiskFull()
    {
        var id = "full-" + Guid.NewGuid().ToString("N")[..8];
        var first = NewEngine();
        var handle = await first.OpenSession(new ClientIdentity("t", 0)).CreateSystemAsync(id, Document(), Ct).WaitAsync(s_timeout, Ct);
        await handle.StartAsync(null, Ct).WaitAsync(s_timeout, Ct);
        _disk.Fill();
        await first.DetachAsync();

        var second = NewEngine();
        var report = await second.RecoverAsync(Ct).WaitAsync(s_timeout, Ct);

        Assert.Equal(id, Assert.Single(report.Adopted).Id);
        Assert.Empty(report.OrphansCleaned);
        Assert.Empty(report.LeftRunning);
        var session = second.OpenSession(new ClientIdentity("t", 0));
        await using var again = await session.OpenSystemAsync(id, Ct).WaitAsync(s_timeout, Ct);
        Assert.Equal(SystemState.Running, await StateOf(again));
        Assert.Equal("running", await new RuncBackend(Settings).RuncStatusAsync(id, Ct));
        var e = await Assert.ThrowsAsync<HcsException>(async () =>
            await (await session.CreateSystemAsync(id + "-new", Document(), Ct)).WaitForCreatedAsync(Ct).WaitAsync(s_timeout, Ct));
        Assert.Equal(HResults.ERROR_DISK_FULL, e.HResult);
        Assert.Contains(_disk.StateDirectory, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, id + "-new")), "a refused Create builds nothing");

        await again.TerminateAsync(null, Ct).WaitAsync(s_timeout, Ct);
        Assert.Null(await new RuncBackend(Settings).RuncStatusAsync(id, Ct));
    }

    [Fact]
    public async Task RunningContainerWhoseRecordIsLost_IsLeftRunningByARestart_AndReported()
    {
        var id = "lost-" + Guid.NewGuid().ToString("N")[..8];
        var first = NewEngine();
        var handle = await first.OpenSession(new ClientIdentity("t", 0)).CreateSystemAsync(id, Document(), Ct).WaitAsync(s_timeout, Ct);
        await handle.StartAsync(null, Ct).WaitAsync(s_timeout, Ct);
        await first.DetachAsync();
        await using (var store = new SqliteStateStore(_disk.StateDirectory))
        {
            await store.DeleteAsync(id, Ct);
        }

        var report = await NewEngine().RecoverAsync(Ct).WaitAsync(s_timeout, Ct);

        Assert.Empty(report.OrphansCleaned);
        var left = Assert.Single(report.LeftRunning);
        Assert.StartsWith($"runc: runc container '{id}' is running with no record", left, StringComparison.Ordinal);
        Assert.Equal("running", await new RuncBackend(Settings).RuncStatusAsync(id, Ct));
    }
}
