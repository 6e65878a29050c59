// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;

namespace Hcs.Conformance;

/// <summary>
/// Event delivery rules (hcs-api.md §5): one subscription per handle; every subscribed handle gets every system event,
/// in order; SystemExited exactly once and last; ProcessExited never on a system handle.
/// </summary>
public abstract class EventConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task EventsAsync_SecondSubscriptionOnOneHandle_FailsWithCallbackAlreadySet()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var first = Record(system);

        await using var second = system.EventsAsync().GetAsyncEnumerator();
        await AssertFailsAsync(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, () => second.MoveNextAsync().AsTask());

        // The first subscription is unaffected.
        await Within(system.TerminateAsync());
        await first.WaitForAsync(HcsEventType.SystemExited);
    }

    [Fact]
    public async Task ReadEventsAsync_SecondSubscriptionOnOneRawHandle_FailsWithCallbackAlreadySet()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var raw = await OpenRawAsync(system.Id);
        await using var first = Record(raw);

        await AssertFailsAsync(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, async () =>
        {
            await foreach (var _ in raw.ReadEventsAsync())
            {
                break;
            }
        });
    }

    [Fact]
    public async Task EventsAsync_OnDifferentHandlesOfOneSystem_AreIndependentSubscriptions()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var second = await OpenAsync(system.Id);

        await using var a = Record(system);
        await using var b = Record(second); // not CALLBACK_ALREADY_SET: the rule is per handle

        await Within(system.TerminateAsync());
        await a.WaitForAsync(HcsEventType.SystemExited);
        await b.WaitForAsync(HcsEventType.SystemExited);
    }

    [Fact]
    public async Task SystemExited_IsDeliveredExactlyOnceToEverySubscribedHandle()
    {
        var system = await CreateAsync("poweroff:30");
        var otherClient = Fixture.Connect("other");
        var second = await OpenAsync(system.Id);
        var third = await OpenAsync(system.Id, otherClient);
        var recorders = new[] { Record(system), Record(second), Record(third) };

        await Within(system.StartAsync());
        await Within(system.WaitForExitAsync());
        foreach (var recorder in recorders)
        {
            await recorder.WaitForAsync(HcsEventType.SystemExited);
        }

        // Close every handle: each stream ends, and must hold SystemExited exactly once, as its last event.
        await Within(system.DisposeAsync());
        await Within(second.DisposeAsync());
        await Within(third.DisposeAsync());
        var statuses = new List<string>();
        foreach (var recorder in recorders)
        {
            var events = await recorder.WaitForEndAsync();
            Assert.Single(events, e => e.Type == HcsEventType.SystemExited);
            Assert.Equal(HcsEventType.SystemExited, events[^1].Type);
            statuses.Add(HcsJson.Serialize(ExitStatusOf(events[^1])));
        }

        Assert.Single(statuses.Distinct(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GuestPanic_DeliversCrashInitiatedThenCrashReportThenSystemExited_AndNothingAfter()
    {
        RequireGuestKernel();
        var system = await CreateAsync("panic:20");
        var second = await OpenAsync(system.Id);
        var recorders = new[] { Record(system), Record(second) };

        await Within(system.StartAsync());
        await Within(system.WaitForExitAsync());
        await recorders[0].WaitForAsync(HcsEventType.SystemExited);
        await recorders[1].WaitForAsync(HcsEventType.SystemExited);
        // Give anything that would (wrongly) follow SystemExited the chance to arrive, then end the streams.
        await Task.Delay(Fixture.Settle / 2);
        await Within(system.DisposeAsync());
        await Within(second.DisposeAsync());

        HcsEventType[] crashEvents = [HcsEventType.SystemCrashInitiated, HcsEventType.SystemCrashReport, HcsEventType.SystemExited];
        foreach (var recorder in recorders)
        {
            var types = (await recorder.WaitForEndAsync()).Select(e => e.Type).ToList();
            Assert.Equal(HcsEventType.SystemExited, types[^1]);
            Assert.Equal(crashEvents, types.Where(crashEvents.Contains)); // other events (a closed guest connection) may interleave
        }

        var crashReport = recorders[0].Events.First(e => e.Type == HcsEventType.SystemCrashReport);
        Assert.False(string.IsNullOrEmpty(crashReport.EventData), "CrashReport carries a CrashReport document");
        var report = HcsJson.Deserialize<CrashReport>(crashReport.EventData!);
        Assert.Equal(system.Id, report.SystemId);
    }

    [Fact]
    public async Task EventsAsync_SubscribedAfterTheExit_DeliversSystemExitedExactlyOnce()
    {
        var system = await PrepareAsync(Prepared.StoppedByGuest);
        var expected = await Within(system.WaitForExitAsync());
        var late = await OpenAsync(system.Id);

        var onOld = Record(system);
        var onLate = Record(late);
        await onOld.WaitForAsync(HcsEventType.SystemExited);
        await onLate.WaitForAsync(HcsEventType.SystemExited);
        await Within(system.DisposeAsync());
        await Within(late.DisposeAsync());

        foreach (var recorder in new[] { onOld, onLate })
        {
            var events = await recorder.WaitForEndAsync();
            var exited = Assert.Single(events);
            Assert.Equal(HcsJson.Serialize(expected), HcsJson.Serialize(ExitStatusOf(exited)));
        }
    }

    [Fact]
    public async Task ProcessExited_NeverArrivesOnASystemHandle()
    {
        var system = await CreateAsync("idle");
        var raw = await OpenRawAsync(system.Id);
        var recorders = new[] { Record(system), Record(raw) };

        await Within(system.StartAsync());
        try
        {
            // A process that runs and exits inside the system: its exit belongs to process handles only.
            await using var process = await Within(raw.CreateProcessAsync(HcsJson.Serialize(new ProcessParameters { CommandLine = "true" })));
            await Within(process.WaitForExitAsync());
        }
        catch (HcsException e) when (e.HResult == HResults.ERROR_NOT_SUPPORTED)
        {
            // A backend without processes: the rest of the lifecycle still must not raise ProcessExited.
        }

        await Within(system.PauseAsync());
        await Within(system.ResumeAsync());
        await Within(system.ShutDownAsync());
        foreach (var recorder in recorders)
        {
            await recorder.WaitForAsync(HcsEventType.SystemExited);
        }

        await Within(system.DisposeAsync());
        await Within(raw.DisposeAsync());
        foreach (var recorder in recorders)
        {
            var all = await recorder.WaitForEndAsync();
            Assert.DoesNotContain(all, e => e.Type == HcsEventType.ProcessExited);
            Assert.Single(all, e => e.Type == HcsEventType.SystemExited);
            Assert.Equal(HcsEventType.SystemExited, all[^1].Type);
        }
    }

    [Fact]
    public async Task ClosingOneHandle_DoesNotStopTheSystemNorTheOtherHandlesEvents()
    {
        var system = await PrepareAsync(Prepared.Running);
        var second = await OpenAsync(system.Id);
        var closing = Record(system);
        var staying = Record(second);

        await Within(system.DisposeAsync());
        var closedEvents = await closing.WaitForEndAsync(); // the closed handle's stream ends ...
        Assert.Empty(closedEvents);                          // ... without a (fake) exit

        await AssertStateAsync(SystemState.Running, second);
        Fixture.KillWorker(second.Id);
        var exit = ExitStatusOf(await staying.WaitForAsync(HcsEventType.SystemExited));
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        await Within(second.DisposeAsync());
    }

    [Fact]
    public async Task EventStream_EndsWhenItsHandleCloses()
    {
        var system = await PrepareAsync(Prepared.Running);
        var events = Record(system);

        await Within(system.DisposeAsync());

        Assert.Empty(await events.WaitForEndAsync());
    }
}
