// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Microsoft.Extensions.Time.Testing;

namespace Hcs.Client.Tests;

/// <summary>HCS_OPERATION semantics of the computecore layer (hcs-api.md §3.1, §4).</summary>
public sealed class OperationTests
{
    [Fact]
    public async Task CompletionCallback_ReceivesTheOperationAndContext_ExactlyOnce()
    {
        await using var env = new TestEnv();
        var system = env.Create(TestEnv.NewId());
        var context = new object();
        var calls = 0;
        HcsOperation? seenOperation = null;
        object? seenContext = null;
        using var fired = new ManualResetEventSlim();
        using var op = HcsCreateOperation(context, (o, c) =>
        {
            Interlocked.Increment(ref calls);
            seenOperation = o;
            seenContext = c;
            fired.Set();
        });

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "the completion callback did not fire");
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));
        Assert.Same(op, seenOperation);
        Assert.Same(context, seenContext);
        using var never = new ManualResetEventSlim();
        never.Wait(50, TestContext.Current.CancellationToken); // give a duplicate callback a chance to show up
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task OperationWithoutCallback_KeepsItsContext_AndCompletesThroughWait()
    {
        await using var env = new TestEnv();
        using var op = HcsCreateOperation("ctx", null);

        Assert.Equal("ctx", HcsGetOperationContext(op));
        TestEnv.Ok(HcsEnumerateComputeSystems(null, op));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
        Assert.True(TestEnv.IsJsonArray(doc));
        Assert.Equal("ctx", HcsGetOperationContext(op));
    }

    [Fact]
    public async Task FreshOperation_IsNotStarted()
    {
        await using var env = new TestEnv();
        using var op = HcsCreateOperation(null, null);

        Assert.Equal(HcsOperationType.None, HcsGetOperationType(op));
        Assert.Equal(-1, (int)HcsGetOperationType(op));
        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsGetOperationResult(op, out var polled));
        Assert.Null(polled);
        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsWaitForOperationResult(op, 0, out var waited));
        Assert.Null(waited);
        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsWaitForOperationResult(op, TestEnv.Timeout, out _));
        Assert.Null(HcsGetComputeSystemFromOperation(op));
    }

    [Fact]
    public void OperationIds_AreUniqueAndNeverTheInvalidId()
    {
        var ops = Enumerable.Range(0, 200).Select(_ => HcsCreateOperation(null, null)).ToList();
        try
        {
            var ids = ops.Select(HcsGetOperationId).ToList();
            Assert.Equal(ids.Count, ids.Distinct().Count());
            Assert.DoesNotContain(HCS_INVALID_OPERATION_ID, ids);
            Assert.Equal(ulong.MaxValue, HCS_INVALID_OPERATION_ID);
            Assert.Equal(HCS_INVALID_OPERATION_ID, HcsGetOperationId(null));
        }
        finally
        {
            ops.ForEach(HcsCloseOperation);
        }
    }

    [Fact]
    public async Task OperationType_AfterBinding_IsTheComputeDefsValueOfEveryVerb()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        var savePath = Path.Combine(Path.GetTempPath(), $"{id}.vmrs");
        HcsSystem? system = null;

        int TypeAfter(Func<HcsOperation, int> call)
        {
            using var op = HcsCreateOperation(null, null);
            var hr = call(op);
            TestEnv.Ok(hr);
            TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
            return (int)HcsGetOperationType(op);
        }

        try
        {
            Assert.Equal(0, TypeAfter(op => HcsEnumerateComputeSystems(null, op)));
            Assert.Equal(1, TypeAfter(op => HcsCreateComputeSystem(id, TestEnv.EmptyVm, op, null, out system)));
            Assert.Equal(2, TypeAfter(op => HcsStartComputeSystem(system, op, null)));
            Assert.Equal(9, TypeAfter(op => HcsGetComputeSystemProperties(system, op, null)));
            Assert.Equal(8, TypeAfter(op => HcsModifyComputeSystem(system, op,
                """{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Settings":512}""", null)));
            Assert.Equal(4, TypeAfter(op => HcsPauseComputeSystem(system, op, null)));
            Assert.Equal(6, TypeAfter(op => HcsSaveComputeSystem(system, op,
                HcsJson.Serialize(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = savePath }))));
            Assert.Equal(5, TypeAfter(op => HcsResumeComputeSystem(system, op, null)));
            Assert.Equal(15, TypeAfter(op => HcsCrashComputeSystem(system, op, null)));

            // The crash stopped the system: Shutdown and Terminate are still bound (and typed) but fail.
            TestEnv.Ok(HcsWaitForComputeSystemExit(system, TestEnv.Timeout, out _));
            using var shutdown = HcsCreateOperation(null, null);
            TestEnv.Ok(HcsShutDownComputeSystem(system, shutdown, null));
            HcsWaitForOperationResult(shutdown, TestEnv.Timeout, out _);
            Assert.Equal(3, (int)HcsGetOperationType(shutdown));
            using var terminate = HcsCreateOperation(null, null);
            TestEnv.Ok(HcsTerminateComputeSystem(system, terminate, null));
            TestEnv.Hr(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, HcsWaitForOperationResult(terminate, TestEnv.Timeout, out _));
            Assert.Equal(7, (int)HcsGetOperationType(terminate));
        }
        finally
        {
            HcsCloseComputeSystem(system);
            File.Delete(savePath);
        }
    }

    [Fact]
    public async Task Terminate_OfARunningSystem_IsTypedTerminate()
    {
        await using var env = new TestEnv();
        using var system = env.CreateRunning(TestEnv.NewId());
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsTerminateComputeSystem(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));

        Assert.Equal(7, (int)HcsGetOperationType(op));
    }

    [Fact]
    public async Task ShutDown_OfARunningSystem_IsTypedShutdown()
    {
        await using var env = new TestEnv();
        using var system = env.CreateRunning(TestEnv.NewId());
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsShutDownComputeSystem(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));

        Assert.Equal(3, (int)HcsGetOperationType(op));
    }

    [Fact]
    public async Task Poll_WhilePending_ReturnsPending()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.Create(id, script: new FakeScript { HangStart = true });
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(op, out var doc));
        Assert.Null(doc);
        Assert.Equal(HcsOperationType.Start, HcsGetOperationType(op));

        // Terminate ends the hung start; the operation then completes with a failure.
        TestEnv.Run(t => HcsTerminateComputeSystem(system, t, null));
        var hr = HcsWaitForOperationResult(op, TestEnv.Timeout, out var failure);
        Assert.True(hr < 0, $"start of a terminated system succeeded: 0x{hr:X8}");
        Assert.Equal(hr, TestEnv.ParseError(failure).Error);
        Assert.NotEqual(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(op, out _));
    }

    [Fact]
    public async Task Wait_WithShortTimeoutWhilePending_TimesOut_AndTheWorkContinues()
    {
        var time = new FakeTimeProvider();
        await using var env = new TestEnv(time);
        var id = TestEnv.NewId();
        using var system = env.Create(id, script: new FakeScript { StartDelay = TimeSpan.FromHours(1) });
        using var op = HcsCreateOperation(null, null);
        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        TestEnv.Hr(HResults.HCS_E_OPERATION_TIMEOUT, HcsWaitForOperationResult(op, 20, out var doc));
        Assert.Null(doc);
        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(op, out _));

        env.AdvanceUntilDone(op);

        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out doc), doc);
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
        Assert.True(env.Fake.Get(id).IsRunning);
    }

    [Fact]
    public async Task ResultDocument_OnSuccess_IsTheCallsResult()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.Create(id);
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsGetComputeSystemProperties(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out var waited), waited);
        TestEnv.Ok(HcsGetOperationResult(op, out var polled));

        var properties = HcsJson.Deserialize<Properties>(waited!);
        Assert.Equal(id, properties.Id);
        Assert.Equal(SystemType.VirtualMachine, properties.SystemType);
        Assert.Equal(SystemState.Created, properties.State);
        Assert.Equal(waited, polled);
    }

    [Fact]
    public async Task ResultDocument_OnFailure_IsAResultErrorCarryingTheHResult()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsPauseComputeSystem(system, op, null)); // accepted; fails in the service (not running)
        var hr = HcsWaitForOperationResult(op, TestEnv.Timeout, out var waited);
        var polledHr = HcsGetOperationResult(op, out var polled);

        TestEnv.Hr(HResults.HCS_E_INVALID_STATE, hr, waited);
        Assert.Equal(hr, polledHr);
        var error = TestEnv.ParseError(waited);
        Assert.Equal(hr, error.Error);
        Assert.False(string.IsNullOrEmpty(error.ErrorMessage));
        Assert.Equal(waited, polled);
    }

    [Fact]
    public async Task OneOperation_CanBeReusedForCreateStartAndGetProperties()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsCreateComputeSystem(id, TestEnv.EmptyVm, op, null, out var system));
        using var closeSystem = system;
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
        Assert.Equal(HcsOperationType.Create, HcsGetOperationType(op));

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out doc), doc);
        Assert.Equal(HcsOperationType.Start, HcsGetOperationType(op));

        TestEnv.Ok(HcsGetComputeSystemProperties(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out doc), doc);
        Assert.Equal(HcsOperationType.GetProperties, HcsGetOperationType(op));
        Assert.Equal(SystemState.Running, HcsJson.Deserialize<Properties>(doc!).State);
    }

    [Fact]
    public async Task BindingAPendingOperation_FailsWithAlreadyStarted_AndTheFirstCallIsUnaffected()
    {
        var time = new FakeTimeProvider();
        await using var env = new TestEnv(time);
        var id = TestEnv.NewId();
        using var system = env.Create(id, script: new FakeScript { StartDelay = TimeSpan.FromHours(1) });
        using var op = HcsCreateOperation(null, null);
        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        TestEnv.Hr(HResults.HCS_E_OPERATION_ALREADY_STARTED, HcsGetComputeSystemProperties(system, op, null));
        TestEnv.Hr(HResults.HCS_E_OPERATION_ALREADY_STARTED, HcsEnumerateComputeSystems(null, op));
        TestEnv.Hr(HResults.HCS_E_OPERATION_ALREADY_STARTED, HcsCreateComputeSystem(TestEnv.NewId(), TestEnv.EmptyVm, op, null, out var other));
        Assert.Null(other);

        Assert.Equal(HcsOperationType.Start, HcsGetOperationType(op));
        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(op, out _));
        env.AdvanceUntilDone(op);
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
        Assert.Null(doc);
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task Cancel_OfAnOperationNotStarted_IsNotStarted()
    {
        await using var env = new TestEnv();
        using var op = HcsCreateOperation(null, null);

        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsCancelOperation(op));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsCancelOperation(null));
    }

    [Fact]
    public async Task Cancel_OfAPendingStart_CompletesItWithErrorCancelled_AndASecondCancelIsAlreadyCancelled()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId(), script: new FakeScript { HangStart = true });
        using var op = HcsCreateOperation(null, null);
        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        TestEnv.Ok(HcsCancelOperation(op));
        TestEnv.Hr(HResults.HCS_E_OPERATION_ALREADY_CANCELLED, HcsCancelOperation(op));

        var hr = HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc);
        TestEnv.Hr(HResults.ERROR_CANCELLED, hr, doc);
        Assert.Equal(HResults.ERROR_CANCELLED, TestEnv.ParseError(doc).Error);

        // Still the same cancellation, even now that the operation has completed because of it.
        TestEnv.Hr(HResults.HCS_E_OPERATION_ALREADY_CANCELLED, HcsCancelOperation(op));

        // The start did not happen; the system is intact and can be driven on.
        Assert.Equal(SystemState.Created, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task Cancel_OfACompletedOperation_IsSFalse()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var op = HcsCreateOperation(null, null);
        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));

        TestEnv.Hr(HResults.S_FALSE, HcsCancelOperation(op));

        TestEnv.Ok(HcsGetOperationResult(op, out _));
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task CloseOperation_WhilePending_FiresNoCallback_AndTheWorkStillCompletes()
    {
        var time = new FakeTimeProvider();
        await using var env = new TestEnv(time);
        var id = TestEnv.NewId();
        using var system = env.Create(id, script: new FakeScript { StartDelay = TimeSpan.FromHours(1) });
        using var fired = new ManualResetEventSlim();
        var op = HcsCreateOperation(null, (_, _) => fired.Set());

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        HcsCloseOperation(op); // the start is still pending: the fake clock has not moved

        TestEnv.Eventually(() =>
        {
            time.Advance(TimeSpan.FromMinutes(1));
            return TestEnv.StateOf(system) == SystemState.Running;
        }, "the abandoned start to finish on the fake clock");
        Assert.True(env.Fake.Get(id).IsRunning);
        Assert.False(fired.Wait(100, TestContext.Current.CancellationToken), "a closed operation's callback fired");
        Assert.Equal(HcsOperationType.None, HcsGetOperationType(op));
    }

    [Fact]
    public async Task ClosingTheOperation_FromItsOwnCompletionCallback_DoesNotDeadlock()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var closed = new ManualResetEventSlim();
        var op = HcsCreateOperation(null, (o, _) =>
        {
            HcsCloseOperation(o);
            closed.Set();
        });

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));

        Assert.True(closed.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "closing the operation inside its own callback deadlocked");
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task CloseOperation_WhileItsCompletionCallbackRuns_WaitsForTheCallbackToReturn()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var finished = false;
        var op = HcsCreateOperation(null, (_, _) =>
        {
            entered.Set();
            gate.Wait(100); // the callback is busy for ~100 ms
            Volatile.Write(ref finished, true);
        });
        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        Assert.True(entered.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "the completion callback did not start");

        HcsCloseOperation(op);

        Assert.True(Volatile.Read(ref finished), "HcsCloseOperation returned while the operation's callback was still running");
    }

    [Fact]
    public async Task CompletionCallback_OfASynchronouslyRejectedCall_RunsOnAnotherThread()
    {
        await using var env = new TestEnv();
        var caller = Environment.CurrentManagedThreadId;
        var callbackThread = 0;
        var calls = 0;
        using var fired = new ManualResetEventSlim();
        using var op = HcsCreateOperation(null, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            callbackThread = Environment.CurrentManagedThreadId;
            fired.Set();
        });

        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsCreateComputeSystem(TestEnv.NewId(), "{ not json", op, null, out var system));

        Assert.Null(system);
        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsGetOperationResult(op, out _)); // the result is there at once
        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken), "the completion callback of the rejected call did not fire");
        Assert.NotEqual(caller, callbackThread);
        Assert.Equal(1, Volatile.Read(ref calls));
    }

    [Fact]
    public async Task WaitingInsideTheOwnCompletionCallback_ReturnsTheResultAtOnce()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var waited = 1;
        string? doc = null;
        using var fired = new ManualResetEventSlim();
        using var op = HcsCreateOperation(null, (o, _) =>
        {
            waited = HcsWaitForOperationResult(o, 0, out doc);
            fired.Set();
        });

        TestEnv.Ok(HcsGetComputeSystemProperties(system, op, null));

        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken));
        TestEnv.Ok(waited, doc);
        Assert.Equal(SystemState.Created, HcsJson.Deserialize<Properties>(doc!).State);
    }

    [Fact]
    public async Task SetOperationCallback_AttachesACallbackToAnExistingOperation_FiringOncePerBinding()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var contexts = new List<object?>();
        using var fired = new SemaphoreSlim(0);
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsSetOperationCallback(op, "attached", (_, c) =>
        {
            lock (contexts)
            {
                contexts.Add(c);
            }

            fired.Release();
        }));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsSetOperationCallback(null, null, null));
        Assert.Equal("attached", HcsGetOperationContext(op));

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken));
        TestEnv.Ok(HcsGetComputeSystemProperties(system, op, null)); // rebinding the completed operation
        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));

        Assert.False(fired.Wait(50, TestContext.Current.CancellationToken), "a binding called back twice");
        lock (contexts)
        {
            Assert.Equal(["attached", "attached"], contexts);
        }
    }

    [Fact]
    public async Task ClosedOperation_CannotBeBound()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        var op = HcsCreateOperation(null, null);
        HcsCloseOperation(op);

        TestEnv.Hr(HResults.E_HANDLE, HcsStartComputeSystem(system, op, null));
        TestEnv.Hr(HResults.E_HANDLE, HcsEnumerateComputeSystems(null, op));
        Assert.Equal(SystemState.Created, TestEnv.StateOf(system));
        HcsCloseOperation(op); // closing twice is harmless
        HcsCloseOperation(null);
    }

    [Fact]
    public async Task GetComputeSystemFromOperation_IsTheSystemOnlyWhilePending()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId(), script: new FakeScript { HangStart = true });
        using var op = HcsCreateOperation(null, null);
        Assert.Null(HcsGetComputeSystemFromOperation(op));
        Assert.Null(HcsGetComputeSystemFromOperation(null));

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        Assert.Same(system, HcsGetComputeSystemFromOperation(op));

        TestEnv.Ok(HcsCancelOperation(op));
        HcsWaitForOperationResult(op, TestEnv.Timeout, out _);
        Assert.Null(HcsGetComputeSystemFromOperation(op));

        // An operation not tied to a system never reports one.
        TestEnv.Ok(HcsEnumerateComputeSystems(null, op));
        Assert.Null(HcsGetComputeSystemFromOperation(op));
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out _));
    }

    [Fact]
    public async Task OperationContext_CanBeReadAndReplaced_AndTheCallbackSeesTheLatest()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        object? seen = null;
        using var fired = new ManualResetEventSlim();
        using var op = HcsCreateOperation("first", (_, c) =>
        {
            seen = c;
            fired.Set();
        });
        Assert.Equal("first", HcsGetOperationContext(op));

        TestEnv.Ok(HcsSetOperationContext(op, "second"));
        Assert.Equal("second", HcsGetOperationContext(op));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsSetOperationContext(null, "x"));
        Assert.Null(HcsGetOperationContext(null));

        TestEnv.Ok(HcsStartComputeSystem(system, op, null));
        Assert.True(fired.Wait(TestEnv.Bound, TestContext.Current.CancellationToken));
        Assert.Equal("second", seen);
    }

    [Fact]
    public async Task WaitForOperationResultAndProcessInfo_OnANonProcessOperation_IsInvalidArg()
    {
        await using var env = new TestEnv();
        using var system = env.Create(TestEnv.NewId());
        using var op = HcsCreateOperation(null, null);

        TestEnv.Hr(HResults.E_INVALIDARG, HcsWaitForOperationResultAndProcessInfo(op, TestEnv.Timeout, out var info, out var doc));
        Assert.Null(info);
        Assert.Null(doc);

        TestEnv.Ok(HcsGetComputeSystemProperties(system, op, null));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsWaitForOperationResultAndProcessInfo(op, TestEnv.Timeout, out info, out doc));
        Assert.Null(info);
        Assert.Null(doc);
        TestEnv.Hr(HResults.E_INVALIDARG, HcsGetOperationResultAndProcessInfo(op, out info, out _));
        Assert.Null(info);

        // The operation itself is unaffected.
        TestEnv.Ok(HcsWaitForOperationResult(op, TestEnv.Timeout, out doc), doc);
    }
}
