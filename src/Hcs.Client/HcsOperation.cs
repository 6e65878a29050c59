// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Client;

/// <summary>Completion callback of an operation (<c>HCS_OPERATION_COMPLETION</c>).</summary>
/// <param name="operation">The operation that completed.</param>
/// <param name="context">The context given at creation or by <see cref="ComputeCore.HcsSetOperationContext"/>.</param>
public delegate void HcsOperationCompletion(HcsOperation operation, object? context);

/// <summary>
/// An <c>HCS_OPERATION</c>: tracks one call at a time. Create it, bind it to exactly one call, then wait, poll, or
/// get its completion callback; once completed it may be bound again. Closing it while pending abandons the result
/// (no callback fires) but never cancels the work; <see cref="ComputeCore.HcsCancelOperation"/> does that. Closing it
/// while its completion callback runs on another thread waits for the callback to return, so no callback runs after
/// the close returned. The completion callback runs on a thread-pool thread, never inside the call that bound the
/// operation (not even when that call is rejected synchronously).
/// </summary>
public sealed class HcsOperation : IDisposable
{
    private static long s_nextId;

    [ThreadStatic]
    private static HcsOperation? s_completing; // the operation whose completion callback this thread is running

    private readonly Lock _gate = new();
    private readonly ManualResetEventSlim _done = new(false);
    private readonly ManualResetEventSlim _callbackIdle = new(true); // reset while a completion callback is due or running
    private int _callbacksInFlight; // guarded by _gate
    private object? _context; // guarded by _gate
    private HcsOperationCompletion? _completion; // guarded by _gate
    private State _state; // guarded by _gate
    private HcsOperationType _type = HcsOperationType.None; // guarded by _gate
    private int _result; // guarded by _gate
    private string? _resultDocument; // guarded by _gate
    private HcsProcessInformation? _processInformation; // guarded by _gate
    private HcsSystem? _system; // guarded by _gate
    private HcsProcess? _process; // guarded by _gate
    private CancellationTokenSource? _cancel; // guarded by _gate
    private bool _cancelled; // guarded by _gate
    private bool _closed; // guarded by _gate
    private long _generation; // guarded by _gate

    internal HcsOperation(object? context, HcsOperationCompletion? completion)
    {
        _context = context;
        _completion = completion;
        Id = (ulong)Interlocked.Increment(ref s_nextId);
    }

    private enum State
    {
        NotStarted,
        Pending,
        Completed,
    }

    /// <summary>The operation's unique id (<c>HcsGetOperationId</c>).</summary>
    public ulong Id { get; }

    internal bool HasCompletionCallback
    {
        get
        {
            lock (_gate)
            {
                return _completion is not null;
            }
        }
    }

    internal HcsOperationType Type
    {
        get
        {
            lock (_gate)
            {
                return _closed ? HcsOperationType.None : _type;
            }
        }
    }

    internal object? Context
    {
        get
        {
            lock (_gate)
            {
                return _context;
            }
        }

        set
        {
            lock (_gate)
            {
                _context = value;
            }
        }
    }

    internal HcsSystem? System
    {
        get
        {
            lock (_gate)
            {
                return _state == State.Pending ? _system : null;
            }
        }
    }

    internal HcsProcess? Process
    {
        get
        {
            lock (_gate)
            {
                return _state == State.NotStarted ? null : _process;
            }
        }
    }

    internal void SetCompletion(object? context, HcsOperationCompletion? completion)
    {
        lock (_gate)
        {
            _context = context;
            _completion = completion;
        }
    }

    /// <summary>
    /// Claims the operation for a call. Fails with <c>HCS_E_OPERATION_ALREADY_STARTED</c> while another call is pending,
    /// and with <c>HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET</c> if the handle delivers operation callbacks and this
    /// operation has its own completion callback.
    /// </summary>
    internal int Reserve(HcsOperationType type, HcsSystem? system, HcsProcess? process)
    {
        var viaHandle = (system?.DeliversOperationCallbacks ?? false) || (process?.DeliversOperationCallbacks ?? false);
        lock (_gate)
        {
            if (_closed)
            {
                return HResults.E_HANDLE;
            }

            if (_state == State.Pending)
            {
                return HResults.HCS_E_OPERATION_ALREADY_STARTED;
            }

            if (viaHandle && _completion is not null)
            {
                return HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET;
            }

            _state = State.Pending;
            _type = type;
            _system = system;
            _process = process;
            _result = HResults.HCS_E_OPERATION_PENDING;
            _resultDocument = null;
            _processInformation = null;
            _cancelled = false;
            _cancel = new CancellationTokenSource();
            _generation++;
            _done.Reset();
            return HResults.S_OK;
        }
    }

    /// <summary>
    /// Binds a reserved, still pending operation to <paramref name="system"/> once the call has made it (a create):
    /// from then on <see cref="ComputeCore.HcsGetComputeSystemFromOperation"/> returns it, and an operation without a
    /// completion callback completes through the system's <see cref="HcsEventType.OperationCallback"/>.
    /// </summary>
    internal void AttachSystem(HcsSystem system)
    {
        lock (_gate)
        {
            if (_state == State.Pending)
            {
                _system = system;
            }
        }
    }

    /// <summary>
    /// Submits the reserved call's work on the caller's thread (so calls reach the service in the order they were made)
    /// and completes the operation from its outcome on a thread-pool thread. Failures of the work, even synchronous ones,
    /// are the operation's result, not the call's.
    /// </summary>
    internal void Run(Func<CancellationToken, Task<string?>> work, Func<HcsProcessInformation?>? processInformation = null)
    {
        long generation;
        CancellationToken token;
        lock (_gate)
        {
            generation = _generation;
            token = _cancel!.Token;
        }

        Task<string?> task;
        try
        {
            task = work(token);
        }
        catch (Exception e)
        {
            task = Task.FromException<string?>(e);
        }

        _ = CompleteWhenDoneAsync(task, processInformation, generation);
    }

    private async Task CompleteWhenDoneAsync(Task<string?> work, Func<HcsProcessInformation?>? processInformation, long generation)
    {
        // Never complete (and so never call back) on the thread that finished the work: that may be a backend's thread.
        await ((Task)work).ConfigureAwait(ConfigureAwaitOptions.ForceYielding | ConfigureAwaitOptions.SuppressThrowing);
        if (work.IsCompletedSuccessfully)
        {
            HcsProcessInformation? info = null;
            try
            {
                info = processInformation?.Invoke();
            }
            catch (Exception e)
            {
                var error = HcsException.Wrap(e, null);
                Complete(generation, error.HResult, HcsJson.Serialize(error.Result), null);
                return;
            }

            Complete(generation, HResults.S_OK, work.Result, info);
        }
        else
        {
            var error = HcsException.Wrap(work.Exception?.InnerException ?? new OperationCanceledException(), null);
            Complete(generation, error.HResult, HcsJson.Serialize(error.Result), null);
        }
    }

    /// <summary>Completes a reserved operation at once with the error a call failed with synchronously.</summary>
    internal void Fail(Exception exception)
    {
        var error = HcsException.Wrap(exception, null);
        long generation;
        lock (_gate)
        {
            generation = _generation;
        }

        // The result is readable at once; the callback, if any, runs on a thread-pool thread, not inside the caller's call.
        Complete(generation, error.HResult, HcsJson.Serialize(error.Result), null, deferCallback: true);
    }

    private void Complete(long generation, int hr, string? document, HcsProcessInformation? processInformation,
        bool deferCallback = false)
    {
        HcsOperationCompletion? completion;
        object? context;
        HcsSystem? system;
        HcsProcess? process;
        lock (_gate)
        {
            if (_state != State.Pending || _generation != generation)
            {
                return;
            }

            _state = State.Completed;
            _result = hr;
            _resultDocument = document;
            _processInformation = processInformation;
            _cancel?.Dispose();
            _cancel = null;
            completion = _closed ? null : _completion;
            context = _context;
            system = _closed ? null : _system;
            process = _closed ? null : _process;
            if (completion is not null)
            {
                _callbacksInFlight++;
                _callbackIdle.Reset();
            }

            _done.Set();
        }

        if (completion is not null)
        {
            if (deferCallback)
            {
                ThreadPool.QueueUserWorkItem(static s => s.Operation.InvokeCompletion(s.Completion, s.Context),
                    (Operation: this, Completion: completion, Context: context), preferLocal: false);
            }
            else
            {
                InvokeCompletion(completion, context);
            }
        }
        else
        {
            system?.PostOperationCallback(this);
            process?.PostOperationCallback(this);
        }
    }

    /// <summary>Runs a completion callback counted in <c>_callbacksInFlight</c>, unless the operation was closed meanwhile.</summary>
    private void InvokeCompletion(HcsOperationCompletion completion, object? context)
    {
        bool closed;
        lock (_gate)
        {
            closed = _closed;
        }

        var previous = s_completing;
        s_completing = this;
        try
        {
            if (!closed)
            {
                completion(this, context);
            }
        }
        catch (Exception e)
        {
            CallbackErrors.Report("operation completion callback", e);
        }
        finally
        {
            s_completing = previous;
            lock (_gate)
            {
                if (--_callbacksInFlight == 0)
                {
                    _callbackIdle.Set();
                }
            }
        }
    }

    /// <summary>Non-blocking poll (<c>HcsGetOperationResult</c>).</summary>
    internal int GetResult(out string? resultDocument, out HcsProcessInformation? processInformation)
    {
        lock (_gate)
        {
            resultDocument = null;
            processInformation = null;
            switch (_state)
            {
                case State.NotStarted:
                    return HResults.HCS_E_OPERATION_NOT_STARTED;
                case State.Pending:
                    return HResults.HCS_E_OPERATION_PENDING;
                default:
                    resultDocument = _resultDocument;
                    processInformation = _processInformation;
                    return _result;
            }
        }
    }

    /// <summary>Blocking wait (<c>HcsWaitForOperationResult</c>); a timeout leaves the work running.</summary>
    internal int Wait(uint timeoutMs, out string? resultDocument, out HcsProcessInformation? processInformation)
    {
        lock (_gate)
        {
            if (_state == State.NotStarted)
            {
                resultDocument = null;
                processInformation = null;
                return HResults.HCS_E_OPERATION_NOT_STARTED;
            }
        }

        var signalled = timeoutMs == ComputeCore.INFINITE ? _done.Wait(Timeout.Infinite) : _done.Wait(TimeSpan.FromMilliseconds(timeoutMs));
        if (!signalled)
        {
            resultDocument = null;
            processInformation = null;
            return HResults.HCS_E_OPERATION_TIMEOUT;
        }

        return GetResult(out resultDocument, out processInformation);
    }

    /// <summary>
    /// Asks the service to stop the tracked call (<c>HcsCancelOperation</c>). A call already cancelled answers
    /// <c>HCS_E_OPERATION_ALREADY_CANCELLED</c> whether or not the cancellation has completed it yet, so the answer does
    /// not depend on timing.
    /// </summary>
    internal int Cancel()
    {
        CancellationTokenSource? cancel;
        lock (_gate)
        {
            if (_state == State.NotStarted)
            {
                return HResults.HCS_E_OPERATION_NOT_STARTED;
            }

            if (_cancelled)
            {
                return HResults.HCS_E_OPERATION_ALREADY_CANCELLED;
            }

            if (_state == State.Completed)
            {
                return HResults.S_FALSE;
            }

            _cancelled = true;
            cancel = _cancel;
        }

        cancel?.Cancel();
        return HResults.S_OK;
    }

    /// <summary>
    /// Closes the operation (<c>HcsCloseOperation</c>). Safe while pending and from inside its own callback; a completion
    /// callback running on another thread is waited for.
    /// </summary>
    public void Dispose()
    {
        bool wait;
        lock (_gate)
        {
            _closed = true;
            _completion = null;
            wait = _callbacksInFlight > 0;
        }

        if (wait && s_completing != this)
        {
            _callbackIdle.Wait();
        }
    }
}
