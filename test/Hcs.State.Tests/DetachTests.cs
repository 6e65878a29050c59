// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Engine.State;
using Hcs.Schema;
using Xunit;
using static Hcs.State.Tests.Docs;

namespace Hcs.State.Tests;

/// <summary>A gracefully stopping service disconnects every client but leaves its systems running.</summary>
public sealed class DetachTests : IAsyncLifetime
{
    private readonly ServiceLives _lives = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _lives.DisposeAsync();

    [Fact]
    public async Task Detach_DisconnectsEveryHandle_ButTheSystemKeepsRunning()
    {
        var handle = await Within(_lives.Session().CreateSystemAsync("survivor", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        var events = EventsUntil(handle, HcsEventType.ServiceDisconnect, HcsEventType.SystemExited);
        var waiting = handle.WaitForExitAsync(Ct);
        var other = await Within(_lives.Session(uid: 0).OpenSystemAsync("survivor", Ct));

        await _lives.Engine.DetachAsync();

        Assert.Equal(HcsEventType.ServiceDisconnect, Assert.Single(await events).Type);
        await FailsWith(HResults.HCS_E_SERVICE_DISCONNECT, () => waiting);
        await FailsWith(HResults.HCS_E_SERVICE_DISCONNECT, () => handle.PauseAsync(null, Ct));
        await FailsWith(HResults.HCS_E_SERVICE_DISCONNECT, () => other.GetPropertiesAsync(null, Ct));
        var fake = _lives.Fake.Get("survivor");
        Assert.True(fake.IsRunning);
        Assert.True(fake.IsDetached);
        Assert.Equal(0, fake.TerminateCalls);
        Assert.Equal(SystemRecordState.Running, Assert.Single(await _lives.RecordsAsync()).State);

        // Disposing a detached engine does nothing more: the system is not terminated.
        await _lives.Engine.DisposeAsync();
        Assert.True(fake.IsRunning);

        var report = await _lives.RestartAsync();
        Assert.Equal("survivor", Assert.Single(report.Adopted).Id);
        Assert.False(fake.IsDetached);
    }

    [Fact]
    public async Task Detach_TerminatesSystemsThatTerminateOnLastHandleClosed()
    {
        var ephemeral = await Within(_lives.Session().CreateSystemAsync("ephemeral", Vm(terminateOnLastHandleClosed: true), Ct));
        await Within(ephemeral.StartAsync(null, Ct));
        var durable = await Within(_lives.Session().CreateSystemAsync("durable", Vm(), Ct));
        await Within(durable.StartAsync(null, Ct));

        await _lives.Engine.DetachAsync();

        Assert.True(_lives.Fake.Get("ephemeral").IsDead);
        Assert.Equal(1, _lives.Fake.Get("ephemeral").TerminateCalls);
        Assert.True(_lives.Fake.Get("durable").IsRunning);
        Assert.Equal("durable", Assert.Single(await _lives.RecordsAsync()).Id);
    }

    [Fact]
    public async Task Detach_DuringAStart_FailsTheStartWithServiceDisconnect_AndRecordsWhereTheSystemReallyIs()
    {
        _lives.Fake.Script("booting", new FakeScript { HangStart = true });
        var handle = await Within(_lives.Session().CreateSystemAsync("booting", Vm(), Ct));
        await Within(handle.WaitForCreatedAsync(Ct));
        var start = handle.StartAsync(null, Ct);
        await Within(WriteThroughTests.WaitUntil(() => _lives.Fake.Get("booting").StartCalls == 1));

        await _lives.Engine.DetachAsync();

        await FailsWith(HResults.HCS_E_SERVICE_DISCONNECT, () => start);
        Assert.Equal(SystemRecordState.Created, Assert.Single(await _lives.RecordsAsync()).State);
        var report = await _lives.RestartAsync();
        Assert.Contains("Created", Assert.Single(report.Adopted).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Detach_DuringConstruction_CancelsIt_AndLeavesNoRecord()
    {
        _lives.Fake.Script("unfinished", new FakeScript { CreateDelay = TimeSpan.FromSeconds(30) });
        var handle = await Within(_lives.Session().CreateSystemAsync("unfinished", Vm(), Ct));
        await _lives.RecordWhenAsync("unfinished", r => r is not null);

        await _lives.Engine.DetachAsync();

        await FailsWith(HResults.HCS_E_SERVICE_DISCONNECT, () => handle.WaitForCreatedAsync(Ct));
        Assert.Empty(await _lives.RecordsAsync());
        Assert.False(_lives.Fake.Systems.ContainsKey("unfinished"));
    }

    [Fact]
    public async Task Detach_OfASystemItsBackendCannotDetach_TerminatesIt_AndDropsItsRecord()
    {
        _lives.Fake.Script("tethered", new FakeScript { FailDetach = true });
        var handle = await Within(_lives.Session().CreateSystemAsync("tethered", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));

        await _lives.Engine.DetachAsync();

        Assert.True(_lives.Fake.Get("tethered").IsDead);
        Assert.Empty(await _lives.RecordsAsync());
        Assert.Contains(_lives.Log.Entries, e => e.Id.Id == 1020 && e.Message.Contains("tethered", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Detach_KeepsAStoppedSystemsRecord_SoTheNextServiceStillReportsItsExit()
    {
        var handle = await Within(_lives.Session().CreateSystemAsync("finished", Vm(), Ct));
        await Within(handle.StartAsync(null, Ct));
        _lives.Fake.Get("finished").Panic("Kernel panic - not syncing: test");
        Assert.Equal(NotificationType.UnexpectedExit, (await ExitOf(handle)).ExitType);

        var report = await _lives.DetachAndRestartAsync();

        Assert.Equal("finished", Assert.Single(report.Stopped).Id);
        await using var reopened = await Within(_lives.Session().OpenSystemAsync("finished", Ct));
        var exit = await ExitOf(reopened);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.NotNull(exit.Attribution![0].GuestCrash);
    }
}
