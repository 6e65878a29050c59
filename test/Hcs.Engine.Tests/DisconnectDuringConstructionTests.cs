// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>A call waiting for construction when the service goes away fails with HCS_E_SERVICE_DISCONNECT.</summary>
public sealed class DisconnectDuringConstructionTests
{
    [Fact]
    public async Task CallWaitingForConstruction_WhenTheServiceGoesAway_FailsWithServiceDisconnect()
    {
        var fake = new FakeBackend();
        fake.Script("slow", new FakeScript { CreateDelay = TimeSpan.FromSeconds(30) });
        var engine = new ComputeEngine([fake]);
        var session = engine.OpenSession(new ClientIdentity("t"));
        var handle = await session.CreateSystemAsync("slow", """{"Container":{"Storage":{"Path":"/s"}}}""", TestContext.Current.CancellationToken);
        var start = handle.StartAsync(null, TestContext.Current.CancellationToken);
        var created = handle.WaitForCreatedAsync(TestContext.Current.CancellationToken);
        Assert.False(start.IsCompleted);

        await engine.DisposeAsync();

        var e = await Assert.ThrowsAsync<HcsException>(() => start.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
        var c = await Assert.ThrowsAsync<HcsException>(() => created.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, c.HResult);
    }
}
