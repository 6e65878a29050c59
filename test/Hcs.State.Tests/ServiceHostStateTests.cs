// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.State;
using Hcs.Host;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>Hosts built from <see cref="HostSettings"/> persist exactly when they have a state directory.</summary>
public sealed class ServiceHostStateTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task CreateEngine_WithAStateDirectory_RecordsSystemsInStateDb_AndRecoversThem()
    {
        var settings = new HostSettings
        {
            StateDirectory = _dir.StateDirectory,
            RuntimeRoot = Path.Combine(_dir.Path, "run"),
            Backends = ["fake"],
        };
        var backends = ServiceHost.CreateBackends(settings);
        var engine = ServiceHost.CreateEngine(settings, backends);
        Assert.IsType<SqliteStateStore>(engine.Options.Store);
        await engine.RecoverAsync(Ct);
        var handle = await Within(engine.OpenSession(new ClientIdentity("t", 1000)).CreateSystemAsync("hosted", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));

        await engine.DetachAsync();

        await using (var reader = new SqliteStateStore(_dir.StateDirectory))
        {
            Assert.Equal(SystemRecordState.Running, Assert.Single(await reader.LoadAsync(Ct)).State);
        }

        await using var next = ServiceHost.CreateEngine(settings, backends);
        Assert.Equal("hosted", Assert.Single((await next.RecoverAsync(Ct)).Adopted).Id);
    }

    [Fact]
    public async Task CreateEngine_WithoutAStateDirectory_PersistsNothing()
    {
        var settings = new HostSettings { StateDirectory = null, RuntimeRoot = Path.Combine(_dir.Path, "run"), Backends = ["fake"] };

        await using var engine = ServiceHost.CreateEngine(settings);

        Assert.Null(engine.Options.Store);
        Assert.False(Directory.Exists(_dir.StateDirectory));
    }
}
