// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.ExceptionServices;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

internal sealed partial class SystemInstance
{
    public Task StartAsync(string? options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options))
        {
            // StartOptions only carries live-migration destination settings, which this service does not support.
            throw HcsException.InvalidJson("$", "start options (live migration) are not supported", OperationLabels.Start, Id);
        }

        return RunAsync(SystemVerb.Start, static (b, ct) => b.StartAsync(ct), SystemPhase.Running, cancellationToken);
    }

    public Task PauseAsync(string? options, CancellationToken cancellationToken)
    {
        var parsed = Parse<PauseOptions>(options, OperationLabels.Pause);
        return RunAsync(SystemVerb.Pause, (b, ct) => b.PauseAsync(parsed, ct), SystemPhase.Paused, cancellationToken);
    }

    public Task ResumeAsync(string? options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options))
        {
            throw HcsException.InvalidJson("$", "resume takes no options", OperationLabels.Resume, Id);
        }

        return RunAsync(SystemVerb.Resume, static (b, ct) => b.ResumeAsync(ct), SystemPhase.Running, cancellationToken);
    }

    public Task SaveAsync(string? options, CancellationToken cancellationToken)
    {
        var parsed = Parse<SaveOptions>(options, OperationLabels.Save)
            ?? throw HcsException.InvalidJson("$", "SaveOptions are required", OperationLabels.Save, Id);
        return RunAsync(SystemVerb.Save, (b, ct) => b.SaveAsync(parsed, ct), null, cancellationToken);
    }

    public Task CrashAsync(string? options, CancellationToken cancellationToken)
    {
        var parsed = Parse<CrashOptions>(options, OperationLabels.Crash);
        return RunAsync(SystemVerb.Crash, (b, ct) => b.CrashAsync(parsed, ct), null, cancellationToken);
    }

    public Task ModifyAsync(string request, CancellationToken cancellationToken)
    {
        var parsed = Parse<ModifySettingRequest>(request, OperationLabels.ModifySystem)
            ?? throw HcsException.InvalidJson("$", "a ModifySettingRequest is required", OperationLabels.ModifySystem, Id);
        return RunAsync(SystemVerb.Modify, (b, ct) => b.ModifyAsync(parsed, ct), null, cancellationToken);
    }

    /// <summary>
    /// Terminate: not serialised behind other lifecycle calls, so it can end a hung Start or ShutDown.
    /// A second Terminate while one is in progress joins it; after the stop it is <c>HCS_E_SYSTEM_ALREADY_STOPPED</c>.
    /// </summary>
    public Task TerminateAsync(string? options, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options))
        {
            throw HcsException.InvalidJson("$", "terminate options are reserved and must be empty", OperationLabels.Terminate, Id);
        }

        lock (_gate)
        {
            if (_phase == SystemPhase.Stopped)
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, OperationLabels.Terminate, Id);
            }
        }

        return JoinAsync(TerminateCoreAsync(StopIntent.Terminate), OperationLabels.Terminate, cancellationToken);
    }

    private Task TerminateCoreAsync(StopIntent intent)
    {
        lock (_gate)
        {
            if (_terminating is not null)
            {
                return _terminating;
            }

            if (_phase == SystemPhase.Stopped)
            {
                return Task.CompletedTask;
            }

            _intent = intent;
            _terminating = TerminateWorkAsync();
            PersistInBackground();
            return _terminating;
        }
    }

    private async Task TerminateWorkAsync()
    {
        await Task.Yield();
        IBackendSystem? backend;
        lock (_gate)
        {
            backend = _backend;
        }

        if (backend is not null)
        {
            await ReleaseAsync(backend).ConfigureAwait(false);
        }

        // Whatever the backend reported meanwhile, the intent (Terminate) decides the exit type.
        FinishStop(new BackendExit(BackendExitCause.Terminated));
    }

    /// <summary>
    /// ShutDown: asks the guest, then waits (outside the lifecycle lock) for the stop, at most
    /// <see cref="EngineOptions.ShutdownTimeout"/>; on timeout it fails with <c>ERROR_TIMEOUT</c> and the system keeps
    /// running. The call succeeds when the system stops for any reason while it waits (the exit status says how).
    /// A ShutDown while one is pending joins it; while terminating or stopped it is <c>HCS_E_SYSTEM_ALREADY_STOPPED</c>.
    /// </summary>
    public Task ShutDownAsync(string? options, CancellationToken cancellationToken)
    {
        var parsed = Parse<ShutdownOptions>(options, OperationLabels.ShutDown);
        if (parsed is { Type: not null and not ShutdownType.Shutdown })
        {
            throw HcsException.InvalidJson("$.Type", $"shutdown type '{parsed.Type}' is not supported; only 'Shutdown' is", OperationLabels.ShutDown, Id);
        }

        Task shutdown;
        lock (_gate)
        {
            var hr = StateMachine.Check(SystemVerb.ShutDown, _phase, _terminating is not null);
            if (hr < 0)
            {
                throw new HcsException(hr, OperationLabels.ShutDown, Id);
            }

            _shuttingDown ??= ShutDownWorkAsync(parsed);
            shutdown = _shuttingDown;
        }

        return JoinAsync(shutdown, OperationLabels.ShutDown, cancellationToken);
    }

    private async Task ShutDownWorkAsync(ShutdownOptions? options)
    {
        await Task.Yield();
        try
        {
            if (options?.Force == true)
            {
                await TerminateCoreAsync(StopIntent.ShutDown).ConfigureAwait(false);
                return;
            }

            var notRunning = false;
            await RunAsync(SystemVerb.ShutDown, async (backend, ct) =>
            {
                lock (_gate)
                {
                    _intent = _intent == StopIntent.None ? StopIntent.ShutDown : _intent;
                    notRunning = _phase == SystemPhase.Created;
                }

                if (!notRunning)
                {
                    await backend.RequestShutdownAsync(options, ct).ConfigureAwait(false);
                }
            }, null, CancellationToken.None).ConfigureAwait(false);

            if (notRunning)
            {
                // Nothing runs yet: the stop is immediate and graceful.
                FinishStop(new BackendExit(BackendExitCause.GuestPowerOff));
                return;
            }

            var timeout = _engine.Options.ShutdownTimeout;
            try
            {
                await _stoppedOrDisconnected.WaitAsync(timeout, _engine.Time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                lock (_gate)
                {
                    if (_intent == StopIntent.ShutDown)
                    {
                        _intent = StopIntent.None;
                    }
                }

                throw new HcsException(HResults.ERROR_TIMEOUT, OperationLabels.ShutDown, Id, result: ResultError.From(HResults.ERROR_TIMEOUT,
                    $"the guest did not shut down within {timeout.TotalSeconds:0.###} s; the system is still running (terminate it to force)"));
            }

            if (!_exited.Task.IsCompleted)
            {
                throw PendingFailure(SystemVerb.ShutDown, OperationLabels.ShutDown);
            }
        }
        catch (HcsException e) when (StopUnderway() && !_engine.DisconnectToken.IsCancellationRequested
            && e.HResult is HResults.HCS_E_TERMINATED or HResults.HCS_E_UNEXPECTED_EXIT or HResults.HCS_E_SYSTEM_ALREADY_STOPPED)
        {
            // The system stopped, or a Terminate overtook the request, while it was in flight: that is what ShutDown
            // asked for. Complete when the stop has been finalised.
            await _stoppedOrDisconnected.ConfigureAwait(false);
            if (!_exited.Task.IsCompleted)
            {
                throw PendingFailure(SystemVerb.ShutDown, OperationLabels.ShutDown);
            }
        }
        finally
        {
            lock (_gate)
            {
                _shuttingDown = null;
            }
        }
    }

    /// <summary>True once the system has stopped or a Terminate (of any intent) is under way.</summary>
    /// <summary>
    /// True when the backend's call has already thrown its own <see cref="HcsException"/> with a reason (a detail in
    /// its <see cref="ResultError.ErrorEvents"/>) and no Terminate was asked for: that failure is the call's outcome
    /// even if the worker's exit was recorded before the engine mapped it (a QEMU that exits on a damaged saved state:
    /// Start is <c>ERROR_INVALID_DATA</c> with QEMU's message, never "stopped while pending").
    /// </summary>
    private bool IsBackendVerdict(Task backendWork)
    {
        if (backendWork is not { IsFaulted: true, Exception.InnerException: HcsException { Result.ErrorEvents.Count: > 0 } })
        {
            return false;
        }

        lock (_gate)
        {
            return _terminating is null;
        }
    }

    private bool StopUnderway()
    {
        lock (_gate)
        {
            return _exitStatus is not null || _terminating is not null;
        }
    }

    /// <summary>Waits for shared work (Terminate, ShutDown); the caller's token only stops the wait.</summary>
    private async Task JoinAsync(Task work, string label, CancellationToken cancellationToken)
    {
        try
        {
            await work.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new HcsException(HResults.ERROR_CANCELLED, label, Id);
        }
        catch (Exception e) when (e is not HcsException)
        {
            throw HcsException.Wrap(e, label, Id);
        }
    }

    /// <summary>
    /// Runs one serialised lifecycle call: waits for construction and its turn, checks the matrix, calls the backend,
    /// and applies <paramref name="onSuccess"/>; failures carry the verb's label (<see cref="StateMachine.LabelOf"/>). Races the call against the stop and the service disconnect so it always
    /// completes; the caller's token cancels the backend work cooperatively (<c>ERROR_CANCELLED</c>).
    /// </summary>
    private async Task RunAsync(SystemVerb verb, Func<IBackendSystem, CancellationToken, Task> body,
        SystemPhase? onSuccess, CancellationToken cancellationToken)
    {
        var label = StateMachine.LabelOf(verb);
        await WaitConstructedAsync(label, cancellationToken).ConfigureAwait(false);

        // A call made in a state where the matrix refuses it fails with the matrix's HRESULT, not as "pending".
        ThrowIfRefused(verb, label);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token, _engine.DisconnectToken);
        try
        {
            await _lifecycle.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw CancelledOrStopped(verb, label, cancellationToken);
        }

        try
        {
            IBackendSystem backend;
            Task recorded = Task.CompletedTask;

            // Published as in flight in the same critical section that admits the call, so a detach that starts at any
            // later point waits for its outcome (and its record) rather than finding nothing in flight.
            var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gate)
            {
                var hr = StateMachine.Check(verb, _phase, _terminating is not null);
                if (hr < 0)
                {
                    throw new HcsException(hr, label, Id);
                }

                backend = _backend!;
                _inflight = finished.Task;
                if (verb == SystemVerb.Start)
                {
                    // Recorded before the backend starts anything: a service that dies now finds it half-started.
                    _starting = true;
                    recorded = PersistAsync();
                }
            }

            try
            {
                await recorded.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Starting could not be recorded (a full or read-only state directory): nothing was started, the
                // system stays Created, and the call fails with the store's error.
                lock (_gate)
                {
                    _starting = false;
                }

                finished.TrySetResult();
                throw RecordFailed(e, label);
            }

            Task backendWork;
            try
            {
                backendWork = body(backend, linked.Token);
            }
            catch (Exception e)
            {
                backendWork = Task.FromException(e);
            }

            var work = CompleteAsync(backendWork, verb, onSuccess);
            _ = work.ContinueWith(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), finished,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

            // The backend's call is what races the stop: once it has returned, the call's outcome is decided, and a stop
            // that lands while the outcome is being recorded (a guest that powers off right after it started) does not
            // turn a Start that happened into "stopped while pending".
            var winner = await Task.WhenAny(backendWork, _stoppedOrDisconnected).ConfigureAwait(false);
            if (winner != backendWork)
            {
                _ = work.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                    TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw PendingFailure(verb, label);
            }

            try
            {
                await work.ConfigureAwait(false);
            }
            catch (RecordNotDurableException e)
            {
                throw RecordFailed(e.InnerException!, label);
            }
            catch (Exception) when (StopUnderway() && !IsBackendVerdict(backendWork))
            {
                // The stop overtook the call (its worker went away under it, e.g. QMP reset by a Terminate): the exit
                // decides the HRESULT, as for a call still pending when the system stopped.
                await _stoppedOrDisconnected.ConfigureAwait(false);
                throw PendingFailure(verb, label);
            }
            catch (OperationCanceledException)
            {
                throw CancelledOrStopped(verb, label, cancellationToken);
            }
            catch (HcsException e) when (e.Operation != label)
            {
                // A backend's failure is reported under the caller's label; HRESULT and document are kept.
                throw new HcsException(e.HResult, label, Id, e.ProcessId, e.Result, e);
            }
            catch (Exception e) when (e is not HcsException)
            {
                throw HcsException.Wrap(e, label, Id);
            }
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Applies a backend call's outcome when the call ends, even if its caller stopped waiting (the service detached
    /// meanwhile): on success the phase moves to <paramref name="onSuccess"/> unless the system stopped; either way the
    /// record is rewritten, so it never says Starting once the backend's Start is over.
    /// </summary>
    private async Task CompleteAsync(Task work, SystemVerb verb, SystemPhase? onSuccess)
    {
        ExceptionDispatchInfo? failure = null;
        try
        {
            await work.ConfigureAwait(false);
            if (onSuccess is { } next)
            {
                lock (_gate)
                {
                    if (_phase != SystemPhase.Stopped)
                    {
                        _phase = next;
                        if (next == SystemPhase.Running)
                        {
                            _startedAt ??= _engine.Time.GetUtcNow();
                        }
                    }
                }
            }
        }
        catch (Exception e)
        {
            failure = ExceptionDispatchInfo.Capture(e);
        }

        if (verb == SystemVerb.Start || onSuccess is not null)
        {
            Task recorded;
            lock (_gate)
            {
                _starting = false;
                recorded = PersistAsync();
            }

            if (verb == SystemVerb.Start && failure is null)
            {
                // The call completes once its outcome is durable: a client told "Running" never finds the system
                // treated as half-started after a crash of the service. If Running cannot be recorded, the record
                // still says Starting and a restart would end the system as half-started; a running worker cannot
                // be put back to Created, so it is terminated now (ServiceStop) and the Start fails with the
                // store's error: memory, the record and a later restart all agree that it did not run on.
                try
                {
                    await recorded.ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await TerminateCoreAsync(StopIntent.ServiceStop).ConfigureAwait(false);
                    throw new RecordNotDurableException(e);
                }
            }
            else
            {
                // A failed Start (the record goes back to Created) and Pause/Resume: the backend's real state is
                // what recovery adopts, so the record is a hint and its failure only logged.
                await QuietlyAsync(recorded).ConfigureAwait(false);
            }
        }

        failure?.Throw();
    }

    /// <summary>A call's outcome happened in the backend but could not be recorded (<see cref="CompleteAsync"/>).</summary>
    private sealed class RecordNotDurableException(Exception inner) : Exception("the outcome could not be recorded", inner);

    private void ThrowIfRefused(SystemVerb verb, string label)
    {
        int hr;
        lock (_gate)
        {
            hr = StateMachine.Check(verb, _phase, _terminating is not null);
        }

        if (hr < 0)
        {
            // After a service disconnect the phase reads Stopped, but what ended the call is the disconnect.
            throw _engine.DisconnectToken.IsCancellationRequested ? PendingFailure(verb, label) : new HcsException(hr, label, Id);
        }
    }

    private HcsException CancelledOrStopped(SystemVerb verb, string label, CancellationToken caller) =>
        _lifetime.IsCancellationRequested || _engine.DisconnectToken.IsCancellationRequested
            ? PendingFailure(verb, label)
            : caller.IsCancellationRequested
                ? new HcsException(HResults.ERROR_CANCELLED, label, Id)
                : new HcsException(HResults.E_ABORT, label, Id);

    private T? Parse<T>(string? json, string label) where T : class
    {
        try
        {
            return HcsJson.DeserializeOptional<T>(json);
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, label, Id, result: e.Result, inner: e);
        }
    }

    // ---- backend events (any thread) -----------------------------------------------------------------------

    void IBackendEventSink.CrashInitiated(CrashReport report) =>
        Emit(HcsEventType.SystemCrashInitiated, HcsJson.Serialize(report with { SystemId = report.SystemId ?? Id }));

    void IBackendEventSink.CrashReported(CrashReport report) =>
        Emit(HcsEventType.SystemCrashReport, HcsJson.Serialize(report with { SystemId = report.SystemId ?? Id }));

    void IBackendEventSink.GuestConnectionClosed(string? eventData) => Emit(HcsEventType.SystemGuestConnectionClosed, eventData);

    void IBackendEventSink.RemoteConsoleStateChanged(string eventData) => Emit(HcsEventType.SystemRdpEnhancedModeStateChanged, eventData);

    void IBackendEventSink.SiloJobCreated(string eventData) => Emit(HcsEventType.SystemSiloJobCreated, eventData);

    void IBackendEventSink.StateChanged(SystemState state)
    {
        lock (_gate)
        {
            if (_phase is SystemPhase.Running or SystemPhase.Paused)
            {
                var before = _phase;
                _phase = state == SystemState.Paused ? SystemPhase.Paused : state == SystemState.Running ? SystemPhase.Running : _phase;
                if (_phase != before)
                {
                    PersistInBackground();
                }
            }
        }
    }

    void IBackendEventSink.RuntimeFactsChanged(string json)
    {
        lock (_gate)
        {
            if (_phase == SystemPhase.Stopped || json is null)
            {
                return;
            }

            _runtimeFacts = json;
            PersistInBackground();
        }
    }

    void IBackendEventSink.GuestReset()
    {
        if (Document.VirtualMachine?.StopOnReset == true)
        {
            _ = TerminateCoreAsync(StopIntent.StopOnReset);
        }
    }

    void IBackendEventSink.Stopped(BackendExit exit) => FinishStop(exit);
}
