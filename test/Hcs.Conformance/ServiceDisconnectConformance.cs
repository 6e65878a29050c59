// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>
/// The service goes away while clients hold handles: every subscribed stream ends with ServiceDisconnect, pending
/// calls fail promptly with <c>HCS_E_SERVICE_DISCONNECT</c>, and so does every later call.
/// </summary>
public abstract class ServiceDisconnectConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    /// <summary>How long a pending call may take to notice the disconnect.</summary>
    private static readonly TimeSpan s_promptly = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task ServiceDisposed_EveryEventStreamEndsWithServiceDisconnect()
    {
        var otherClient = Fixture.Connect("other");
        var running = await PrepareAsync(Prepared.Running);
        var created = await PrepareAsync(Prepared.Created);
        var second = await OpenAsync(running.Id, otherClient);
        var recorders = new[] { Record(running), Record(created), Record(second) };

        await Within(Fixture.Service.DisposeAsync().AsTask());

        foreach (var recorder in recorders)
        {
            var events = await recorder.WaitForEndAsync();
            Assert.Single(events, e => e.Type == HcsEventType.ServiceDisconnect);
            Assert.Equal(HcsEventType.ServiceDisconnect, events[^1].Type);
            Assert.Null(events[^1].EventData);
        }
    }

    [Fact]
    public async Task ServiceDisposed_AfterTheExit_StreamEndsWithSystemExitedThenServiceDisconnect()
    {
        var system = await PrepareAsync(Prepared.Stopped);
        var events = Record(system);
        await events.WaitForAsync(HcsEventType.SystemExited);

        await Within(Fixture.Service.DisposeAsync().AsTask());

        var all = await events.WaitForEndAsync();
        Assert.Equal([HcsEventType.SystemExited, HcsEventType.ServiceDisconnect], all.Select(e => e.Type));
    }

    [Fact]
    public async Task ServiceDisposed_PendingWaitForExitFailsPromptlyWithServiceDisconnect()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var raw = await OpenRawAsync(system.Id);
        var idiomatic = system.WaitForExitAsync();
        var contract = raw.WaitForExitAsync();
        Assert.False(idiomatic.IsCompleted, "the system is running");

        var clock = Stopwatch.StartNew();
        await Within(Fixture.Service.DisposeAsync().AsTask());

        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => idiomatic);
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => contract);
        Assert.True(clock.Elapsed < s_promptly, $"pending calls failed after {clock.Elapsed}");
    }

    [Fact]
    public async Task ServiceDisposed_PendingStartFailsPromptlyWithServiceDisconnect()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, RequireHangingStart(id));
        var start = system.StartAsync();
        Assert.False(start.IsCompleted, "Start of a system whose guest never comes up stays pending");
        await Fixture.StartArrivedAsync(id);

        var clock = Stopwatch.StartNew();
        await Within(Fixture.Service.DisposeAsync().AsTask());

        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => start);
        Assert.True(clock.Elapsed < s_promptly, $"the pending Start failed after {clock.Elapsed}");
    }

    [Fact]
    public async Task ServiceDisposed_PendingShutdownFailsPromptlyWithServiceDisconnect()
    {
        var id = Fixture.NewId("noacpi");
        var system = await CreateFromAsync(id, Fixture.IgnoresShutdownDocument(id));
        await Within(system.StartAsync());
        var shutdown = system.ShutDownAsync();
        Assert.False(shutdown.IsCompleted, "the guest ignores the request");

        var clock = Stopwatch.StartNew();
        await Within(Fixture.Service.DisposeAsync().AsTask());

        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => shutdown);
        Assert.True(clock.Elapsed < s_promptly, $"the pending ShutDown failed after {clock.Elapsed}");
    }

    [Fact]
    public async Task ServiceDisposed_LaterCallsOnHandlesAndSessionsFailWithServiceDisconnect()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var raw = await OpenRawAsync(system.Id);

        await Within(Fixture.Service.DisposeAsync().AsTask());

        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.GetPropertiesAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.TerminateAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.ShutDownAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.PauseAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.WaitForExitAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => raw.StartAsync(null));
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => raw.ModifyAsync(HcsJson.Serialize(MemoryUpdate())));
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, async () =>
        {
            await foreach (var _ in raw.ReadEventsAsync())
            {
                break;
            }
        });
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => ComputeSystem.OpenAsync(Client, system.Id));
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => ComputeSystem.CreateAsync(Client, Fixture.NewId(), Fixture.VmDocument("idle")));
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => ComputeSystem.EnumerateAsync(Client));
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => Client.Session.GetServicePropertiesAsync(null));
        Assert.True(Client.Session.Disconnected.IsCancellationRequested, "the session reports the disconnect");
    }

    [Fact]
    public async Task ServiceDisposed_NewSessionsFailWithServiceDisconnect()
    {
        _ = Client; // a session existed before

        await Within(Fixture.Service.DisposeAsync().AsTask());

        var e = Assert.Throws<HcsException>(() => Fixture.Service.OpenSession(new ClientIdentity("late")));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
        e = Assert.Throws<HcsException>(() => HcsClient.Connect(Fixture.Service, "late"));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
    }

    [Fact]
    public async Task ServiceDisposed_ClientDisposeAfterwardsIsHarmless()
    {
        var client = Fixture.Connect("late-dispose");
        var system = await CreateAsync(client: client, terminateOnLastHandleClosed: true);
        await Within(system.StartAsync());

        await Within(Fixture.Service.DisposeAsync().AsTask());

        await Within(client.DisposeAsync());
        await Within(system.DisposeAsync());
        await AssertFailsAsync(HResults.HCS_E_SERVICE_DISCONNECT, () => system.GetPropertiesAsync());
    }
}
