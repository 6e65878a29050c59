// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client.Tests;

/// <summary>Handle callbacks and event delivery (hcs-api.md §3.2 HcsSetComputeSystemCallback, §5).</summary>
public sealed class CallbackTests
{
    [Fact]
    public async Task SetComputeSystemCallback_ASecondTime_IsCallbackAlreadySet()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var log = new EventLog();

        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));

        TestEnv.Hr(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
            HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));
        TestEnv.Hr(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
            HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, log.Callback()));
    }

    [Fact]
    public async Task SetComputeSystemCallback_PassesItsContext()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        var context = new object();
        object? seen = null;
        using var fired = new ManualResetEventSlim();

        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, context, (_, c) =>
        {
            seen = c;
            fired.Set();
        }));
        env.Fake.Get(id).DropGuestConnection();

        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken));
        Assert.Same(context, seen);
    }

    [Fact]
    public async Task TwoHandlesToOneSystem_EachGetSystemExitedExactlyOnce_AndNothingAfterIt()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var first = env.CreateRunning(id);
        TestEnv.Ok(HcsOpenComputeSystem(id, GENERIC_ALL, out var second));
        using var closeSecond = second;
        var firstLog = new EventLog();
        var secondLog = new EventLog();
        TestEnv.Ok(HcsSetComputeSystemCallback(first, HcsEventOptions.None, null, firstLog.Callback()));
        TestEnv.Ok(HcsSetComputeSystemCallback(second, HcsEventOptions.None, null, secondLog.Callback()));
        var fake = env.Fake.Get(id);

        fake.DropGuestConnection();
        fake.PowerOff();
        firstLog.WaitFor(HcsEventType.SystemExited);
        secondLog.WaitFor(HcsEventType.SystemExited);

        // The guest "acts" after the exit; a second power-off and a terminate must not produce a second exit either.
        fake.DropGuestConnection();
        fake.RemoteConsole(true);
        fake.PowerOff();
        TestEnv.RunRaw(op => HcsTerminateComputeSystem(first, op, null), out _);
        using var settle = new ManualResetEventSlim();
        settle.Wait(100, TestContext.Current.CancellationToken);

        foreach (var log in new[] { firstLog, secondLog })
        {
            Assert.Equal([HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemExited], log.Types);
            Assert.Equal(1, log.Count(HcsEventType.SystemExited));
            Assert.Equal(NotificationType.GracefulExit,
                HcsJson.Deserialize<SystemExitStatus>(log.WaitFor(HcsEventType.SystemExited).EventData!).ExitType);
        }
    }

    [Fact]
    public async Task Callback_RegisteredAfterTheExit_GetsSystemExitedOnce()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        env.Fake.Get(id).PowerOff();
        TestEnv.Ok(HcsWaitForComputeSystemExit(system, TestEnv.Timeout, out _));
        var log = new EventLog();

        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));

        log.WaitFor(HcsEventType.SystemExited);
        using var settle = new ManualResetEventSlim();
        settle.Wait(50, TestContext.Current.CancellationToken);
        Assert.Equal([HcsEventType.SystemExited], log.Types);
    }

    [Fact]
    public async Task EnableOperationCallbacks_DeliversOperationCallbackWithTheOperation()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var log = new EventLog();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, log.Callback()));
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        var ev = log.WaitFor(HcsEventType.OperationCallback);
        Assert.Same(op, ev.Operation);
        Assert.Null(ev.EventData);
        TestEnv.Ok(HcsGetOperationResult(ev.Operation, out _)); // completed by the time the event is delivered
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));

        // An operation with its own completion callback cannot be bound to this handle.
        var fired = false;
        using var own = HcsCreateOperation(null, (_, _) => fired = true);
        var hr = HcsPauseComputeSystem(system, own, null);
        Assert.Equal(unchecked((int)0x80370119), hr);
        TestEnv.Hr(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, hr);
        Assert.Equal(HcsOperationType.None, HcsGetOperationType(own));
        Assert.False(fired);
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task CreateInNamespace_WithACallback_DeliversTheCreatesCompletion_AndOtherNamespacesAreRefused()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var log = new EventLog();
        var options = new HcsCreateOptions { CallbackOptions = HcsEventOptions.EnableOperationCallbacks, Callback = log.Callback() };
        using var refused = HcsCreateOperation(null, null);
        TestEnv.Hr(HResults.E_INVALIDARG, HcsCreateComputeSystemInNamespace("other", id, TestEnv.EmptyVm, refused, options, out var none));
        Assert.Null(none);
        TestEnv.Hr(HResults.HCS_E_SYSTEM_NOT_FOUND, HcsOpenComputeSystem(id, GENERIC_ALL, out _));
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsCreateComputeSystemInNamespace(null, id, TestEnv.EmptyVm, op, options, out var system));
        using var closeSystem = system;

        var ev = log.WaitFor(HcsEventType.OperationCallback);
        Assert.Same(op, ev.Operation);
        TestEnv.Ok(HcsGetOperationResult(op, out _));
        Assert.Equal(SystemState.Created, TestEnv.StateOf(system!));
    }

    [Fact]
    public async Task EnableOperationCallbacks_RefusesStartWithAnOperationThatHasItsOwnCallback()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var log = new EventLog();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, log.Callback()));
        using var op = HcsCreateOperation(null, (_, _) => { });

        Assert.Equal(unchecked((int)0x80370119), HcsStartComputeSystem(system, op, null));

        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsGetOperationResult(op, out _));
        Assert.Equal(SystemState.Created, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task EnableVmLifecycle_IsNotSupported()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var log = new EventLog();

        TestEnv.Hr(HResults.ERROR_NOT_SUPPORTED, HcsSetComputeSystemCallback(system, HcsEventOptions.EnableVmLifecycle, null, log.Callback()));
        TestEnv.Hr(HResults.ERROR_NOT_SUPPORTED, HcsSetComputeSystemCallback(system,
            HcsEventOptions.EnableOperationCallbacks | HcsEventOptions.EnableVmLifecycle, null, log.Callback()));

        // The refusal did not use up the handle's one registration.
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));
    }

    [Fact]
    public async Task CloseComputeSystem_WhileItsCallbackRuns_WaitsForTheCallback_AndNoCallbackRunsAfterwards()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var finished = false;
        var calls = 0;
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (_, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Set();
                gate.Wait(100); // busy for ~100 ms
                Volatile.Write(ref finished, true);
            }
        }));
        var fake = env.Fake.Get(id);
        fake.DropGuestConnection();
        fake.RemoteConsole(true);   // queued behind the busy callback
        fake.RemoteConsole(false);  // queued behind the busy callback
        Assert.True(entered.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "the callback did not start");

        HcsCloseComputeSystem(system);

        Assert.True(Volatile.Read(ref finished), "HcsCloseComputeSystem returned while the callback was still running");
        var atClose = Volatile.Read(ref calls);
        Assert.Equal(1, atClose); // the queued events were dropped, not delivered during Close
        fake.DropGuestConnection();
        fake.PowerOff();
        using var settle = new ManualResetEventSlim();
        settle.Wait(100, TestContext.Current.CancellationToken);
        Assert.Equal(atClose, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task Callback_ClosingItsOwnHandle_DoesNotDeadlock()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var system = env.CreateRunning(id);
        using var closed = new ManualResetEventSlim();
        var calls = 0;
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            HcsCloseComputeSystem(system);
            closed.Set();
        }));

        env.Fake.Get(id).DropGuestConnection();

        Assert.True(closed.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "closing the handle inside its own callback deadlocked");
        env.Fake.Get(id).DropGuestConnection();
        using var settle = new ManualResetEventSlim();
        settle.Wait(50, TestContext.Current.CancellationToken);
        Assert.Equal(1, Volatile.Read(ref calls));
        using var op = HcsCreateOperation(null, null);
        TestEnv.Hr(HResults.E_HANDLE, HcsGetComputeSystemProperties(system, op, null));
        HcsCloseComputeSystem(system); // a second close is harmless
    }

    [Fact]
    public async Task OperationCallbackEvent_ClosingItsOwnOperation_DoesNotDeadlock()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var closed = new ManualResetEventSlim();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, (ev, _) =>
        {
            if (ev.Type == HcsEventType.OperationCallback)
            {
                HcsCloseOperation(ev.Operation);
                closed.Set();
            }
        }));
        var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        Assert.True(closed.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "closing the operation inside the OperationCallback event deadlocked");
        Assert.Equal(HcsOperationType.None, HcsGetOperationType(op));
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task Callbacks_RunOnAnotherThreadThanTheEventsProducer_AndHoldNoEngineLock()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        var producer = 0;
        var consumer = 0;
        var nestedHr = 1;
        string? nestedDoc = null;
        using var done = new ManualResetEventSlim();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (ev, _) =>
        {
            if (ev.Type != HcsEventType.SystemGuestConnectionClosed)
            {
                return;
            }

            consumer = Environment.CurrentManagedThreadId;

            // Calling back into the service from the callback and waiting for it must not deadlock.
            using var op = HcsCreateOperation(null, null);
            var hr = HcsGetComputeSystemProperties(system, op, null);
            nestedHr = hr < 0 ? hr : HcsWaitForOperationResult(op, TestEnv.Timeout, out nestedDoc);
            done.Set();
        }));
        var fake = env.Fake.Get(id);

        // Act as the guest from this thread: the event is produced here.
        producer = Environment.CurrentManagedThreadId;
        fake.DropGuestConnection();

        Assert.True(done.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "the callback did not finish (deadlock?)");
        Assert.NotEqual(producer, consumer);
        TestEnv.Ok(nestedHr, nestedDoc);
        Assert.Equal(SystemState.Running, HcsJson.Deserialize<Properties>(nestedDoc!).State);
    }

    [Fact]
    public async Task SystemExited_ProducedOnTheTestThread_IsDeliveredOnAnotherThread()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        var log = new EventLog();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));

        env.Fake.Get(id).KillWorker();

        var exited = log.WaitFor(HcsEventType.SystemExited);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, log.Threads);
        Assert.Equal(NotificationType.UnexpectedExit, HcsJson.Deserialize<SystemExitStatus>(exited.EventData!).ExitType);
    }

    [Fact]
    public async Task EngineDispose_DeliversServiceDisconnectToEveryHandle_AndFailsPendingWaits()
    {
        var env = new TestEnv();
        await using var disposeEnv = env;
        var a = TestEnv.NewId("a");
        var b = TestEnv.NewId("b");
        using var systemA = env.CreateRunning(a);
        using var systemB = env.Create(b, script: new FakeScript { HangStart = true });
        TestEnv.Ok(HcsOpenComputeSystem(a, GENERIC_ALL, out var secondA));
        using var closeSecondA = secondA;
        var logs = new[] { new EventLog(), new EventLog(), new EventLog() };
        TestEnv.Ok(HcsSetComputeSystemCallback(systemA, HcsEventOptions.None, null, logs[0].Callback()));
        TestEnv.Ok(HcsSetComputeSystemCallback(systemB, HcsEventOptions.None, null, logs[1].Callback()));
        TestEnv.Ok(HcsSetComputeSystemCallback(secondA, HcsEventOptions.None, null, logs[2].Callback()));
        using var hungStart = HcsCreateOperation(null, null);
        TestEnv.Ok(HcsStartComputeSystem(systemB, hungStart, null));
        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(hungStart, out _));
        string? exitDoc = null;
        var exitWait = Task.Run(() => HcsWaitForComputeSystemExit(systemA, TestEnv.Timeout, out exitDoc), TestContext.Current.CancellationToken);

        await env.Engine.DisposeAsync();

        foreach (var log in logs)
        {
            var ev = log.WaitFor(HcsEventType.ServiceDisconnect);
            Assert.Null(ev.EventData);
        }

        TestEnv.Hr(HResults.HCS_E_SERVICE_DISCONNECT, await exitWait, exitDoc);

        // New calls on the old handles fail the same way.
        TestEnv.Hr(HResults.HCS_E_SERVICE_DISCONNECT, TestEnv.RunRaw(op => HcsGetComputeSystemProperties(systemA, op, null), out _));
        foreach (var log in logs)
        {
            Assert.Equal(1, log.Count(HcsEventType.ServiceDisconnect));
        }

        // The call that was pending in the service when it went away.
        var startHr = HcsWaitForOperationResult(hungStart, TestEnv.Timeout, out var startDoc);
        TestEnv.Hr(HResults.HCS_E_SERVICE_DISCONNECT, startHr, startDoc);
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, TestEnv.ParseError(startDoc).Error);
    }

    [Fact]
    public async Task ThrowingCallback_IsReportedThroughCallbackErrors_AndLaterEventsStillArrive()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);
        var log = new EventLog();
        var thrown = new InvalidOperationException($"callback of {id} throws");
        var reported = new List<(string Where, Exception Error)>();
        void OnUnhandled(object? sender, Exception e)
        {
            if (ReferenceEquals(e, thrown))
            {
                lock (reported)
                {
                    reported.Add((sender as string ?? "", e));
                }
            }
        }

        CallbackErrors.Unhandled += OnUnhandled;
        try
        {
            TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback(ev =>
            {
                if (ev.Type == HcsEventType.SystemGuestConnectionClosed)
                {
                    throw thrown;
                }
            })));
            var fake = env.Fake.Get(id);

            fake.DropGuestConnection();
            fake.PowerOff();

            log.WaitFor(HcsEventType.SystemExited);
            Assert.Equal([HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemExited], log.Types);
            TestEnv.Eventually(() =>
            {
                lock (reported)
                {
                    return reported.Count > 0;
                }
            }, "the callback's exception to be reported");
            lock (reported)
            {
                var (where, error) = Assert.Single(reported);
                Assert.Same(thrown, error);
                Assert.Contains("callback", where, StringComparison.Ordinal);
            }
        }
        finally
        {
            CallbackErrors.Unhandled -= OnUnhandled;
        }
    }

    [Fact]
    public async Task ShouldTerminateOnLastHandleClosed_ClosingTheLastHandleTerminatesTheSystem()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var first = env.CreateRunning(id, TestEnv.TerminateOnCloseVm);
        TestEnv.Ok(HcsOpenComputeSystem(id, GENERIC_ALL, out var second));
        var fake = env.Fake.Get(id);
        await using var observer = HcsClient.Connect(env.Engine, "observer");

        // Not the last handle: the system keeps running.
        HcsCloseComputeSystem(first);
        Assert.Equal(SystemState.Running, TestEnv.StateOf(second!));
        Assert.True(fake.IsRunning);

        // The last one: the system is terminated, and another client no longer finds it.
        HcsCloseComputeSystem(second);
        TestEnv.Eventually(() => fake.IsDead, "the system to be terminated");
        using (HcsClient.Use(observer))
        {
            TestEnv.Eventually(() => HcsOpenComputeSystem(id, GENERIC_ALL, out _) == HResults.HCS_E_SYSTEM_NOT_FOUND,
                "the terminated system to disappear for another client");
            var listed = TestEnv.Run(op => HcsEnumerateComputeSystems(HcsJson.Serialize(new SystemQuery { Ids = [id] }), op));
            Assert.Empty(HcsJson.Deserialize<IReadOnlyList<Properties>>(listed!));
        }

        Assert.Equal(1, fake.TerminateCalls);
    }

    [Fact]
    public async Task WithoutShouldTerminateOnLastHandleClosed_TheSystemOutlivesItsHandles()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var system = env.CreateRunning(id);
        await using var observer = HcsClient.Connect(env.Engine, "observer");

        HcsCloseComputeSystem(system);

        using (HcsClient.Use(observer))
        {
            TestEnv.Ok(HcsOpenComputeSystem(id, GENERIC_ALL, out var reopened));
            using var closeReopened = reopened;
            Assert.Equal(SystemState.Running, TestEnv.StateOf(reopened!));
        }

        Assert.True(env.Fake.Get(id).IsRunning);
    }
}
