// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>What recovery did with one recorded system.</summary>
internal enum RecoveryKind
{
    Adopted,
    ExitedWhileDown,
    TerminatedHalfStarted,
    TerminateCompleted,
    TerminatedNoHandles,
    Stopped,
}

/// <summary>Re-adoption after a service restart, and detaching when the service stops gracefully.</summary>
internal sealed partial class SystemInstance
{
    /// <summary>How long a detach waits for construction and an in-flight backend call (both cancelled by the disconnect) to end.</summary>
    private static readonly TimeSpan s_detachWait = TimeSpan.FromSeconds(30);

    /// <summary>True unless stopped: the system has (or may have) a live worker.</summary>
    public bool IsLive
    {
        get
        {
            lock (_gate)
            {
                return _phase != SystemPhase.Stopped;
            }
        }
    }

    /// <summary>
    /// Brings a recorded system back: asks its backend to re-adopt it (which never starts anything) and settles it in
    /// its real state. Invariants: a system the old service was constructing or starting (recorded Creating/Starting)
    /// is terminated, never resumed, so no second worker can appear for one id; a system whose Terminate was in flight
    /// is terminated; a system the backend cannot re-adopt is ended (its leftovers are the orphan cleaner's); a system
    /// that died while the service was down gets its exit status; a live system with
    /// ShouldTerminateOnLastHandleClosed lost every handle with the old service and is terminated. Systems that end
    /// here, except those recorded Creating (which never existed for their client), stay registered as stopped until
    /// a handle opened on them closes, so a client that reopens one learns how it ended.
    /// </summary>
    public async Task<(RecoveryKind Kind, string Detail)> RecoverAsync(SystemRecord record, CancellationToken cancellationToken)
    {
        if (record.State == SystemRecordState.Stopped)
        {
            RestoreStopped(record);
            return (RecoveryKind.Stopped, $"stopped before the restart ({_exitStatus?.ExitType})");
        }

        BackendAdoption? adoption = null;
        Exception? failure = null;
        if (record.State != SystemRecordState.Creating || record.RuntimeFacts is not null)
        {
            try
            {
                var context = new BackendAdoptContext(Id, Document, this, _engine.Time, record.RuntimeFacts ?? "");
                adoption = await _backendKind.AdoptAsync(context, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        var live = adoption?.System;
        bool stoppedDuringAdoption;
        lock (_gate)
        {
            // Recorded Creating: the client never had a constructed system, so ending it frees the id.
            _retainStopped = record.State != SystemRecordState.Creating;
            stoppedDuringAdoption = _exitStatus is not null;
            if (live is not null && !stoppedDuringAdoption)
            {
                _backend = live;
                _phase = adoption!.State switch
                {
                    SystemState.Paused => SystemPhase.Paused,
                    SystemState.Created => SystemPhase.Created,
                    _ => SystemPhase.Running,
                };
            }
        }

        _constructed.TrySetResult();
        if (live is not null && stoppedDuringAdoption)
        {
            // It reported its own stop while being adopted: that exit is the truth; release what was handed back.
            await ReleaseAsync(live).ConfigureAwait(false);
            return (RecoveryKind.ExitedWhileDown, $"stopped while being re-adopted ({_exitStatus?.ExitType})");
        }

        var found = failure is not null ? $"re-adoption failed: {failure.Message}"
            : live is not null ? $"found {adoption!.State}"
            : adoption is not null ? $"found it gone ({adoption.Exit?.Cause.ToString() ?? "no cause"})"
            : "no runtime facts were recorded";
        switch (record.State)
        {
            case SystemRecordState.Creating or SystemRecordState.Starting:
                await EndAsync(StopIntent.ServiceStop, live is not null, adoption?.Exit).ConfigureAwait(false);
                return (RecoveryKind.TerminatedHalfStarted, $"recorded {record.State}; {found}");
            case SystemRecordState.Stopping:
                await EndAsync(StopIntent.Terminate, live is not null, adoption?.Exit).ConfigureAwait(false);
                return (RecoveryKind.TerminateCompleted, $"a Terminate was in flight; {found}");
        }

        if (failure is not null)
        {
            await EndAsync(StopIntent.ServiceStop, false, null).ConfigureAwait(false);
            return (RecoveryKind.TerminatedHalfStarted, $"recorded {record.State}; {found}");
        }

        if (live is null)
        {
            // The backend knows the cause when it can (a runc init's exit record); otherwise the worker died.
            FinishStop(adoption!.Exit ?? new BackendExit(BackendExitCause.WorkerDied, Detail: "ended while the service was down"));
            return (RecoveryKind.ExitedWhileDown, $"recorded {record.State}; {found}; exit {_exitStatus?.ExitType}");
        }

        if (TerminateOnLastHandleClosed)
        {
            lock (_gate)
            {
                _retainStopped = false;
            }

            await TerminateCoreAsync(StopIntent.LastHandleClosed).ConfigureAwait(false);
            return (RecoveryKind.TerminatedNoHandles, $"recorded {record.State}; {found}; every handle closed with the old service");
        }

        // A read-only service (full or read-only state directory) still adopts: the record it has is what it found.
        await QuietlyAsync(PersistAsync()).ConfigureAwait(false);
        return (RecoveryKind.Adopted, $"recorded {record.State}; {found}");
    }

    /// <summary>Ends a recovered system: terminates the re-adopted worker, or records the stop of one that is gone.</summary>
    private async Task EndAsync(StopIntent intent, bool live, BackendExit? exit)
    {
        if (live)
        {
            await TerminateCoreAsync(intent).ConfigureAwait(false);
            return;
        }

        lock (_gate)
        {
            _intent = intent;
        }

        FinishStop(exit ?? new BackendExit(BackendExitCause.WorkerDied));
    }

    /// <summary>A system recorded Stopped: registered again with its exit status, until a handle opened on it closes.</summary>
    private void RestoreStopped(SystemRecord record)
    {
        SystemExitStatus status;
        try
        {
            status = record.ExitStatus is { } json ? HcsJson.Deserialize<SystemExitStatus>(json) : ExitStatuses.Compose(StopIntent.None, new BackendExit(BackendExitCause.WorkerDied));
        }
        catch (HcsException)
        {
            status = ExitStatuses.Compose(StopIntent.None, new BackendExit(BackendExitCause.WorkerDied));
        }

        lock (_gate)
        {
            _exitStatus = status;
            _phase = SystemPhase.Stopped;
            _stoppedAt ??= record.UpdatedAt;
            _retainStopped = true;
        }

        _exited.TrySetResult(status);
        _lifetime.Cancel();
        _constructed.TrySetResult();
    }

    /// <summary>
    /// The service is stopping gracefully (its handles already got ServiceDisconnect): lets construction and the
    /// latest backend call end (the disconnect cancelled them), then leaves the system running and detaches the
    /// backend from it, with its final state recorded. A system with ShouldTerminateOnLastHandleClosed has just lost
    /// every handle and is terminated; one whose backend cannot detach is terminated too (its record then goes).
    /// </summary>
    public async Task DetachAsync()
    {
        await QuietAsync(_constructed.Task).ConfigureAwait(false);
        Task? inflight, terminating;
        lock (_gate)
        {
            inflight = _inflight;
            terminating = _terminating;
        }

        await QuietAsync(inflight).ConfigureAwait(false);
        await QuietAsync(terminating).ConfigureAwait(false);

        IBackendSystem? backend;
        bool constructionFailed;
        lock (_gate)
        {
            _handles.Clear();
            constructionFailed = _constructionFailed;
            backend = _phase == SystemPhase.Stopped ? null : _backend;
        }

        if (constructionFailed)
        {
            // Construction was cancelled by the disconnect: the system never existed.
            ForgetRecord();
            return;
        }

        if (backend is null)
        {
            // Stopped (its record says how, and a reopened handle will see it), or still constructing past the wait
            // (recorded Creating: the next service ends it as half-started).
            return;
        }

        if (TerminateOnLastHandleClosed)
        {
            await TerminateCoreAsync(StopIntent.LastHandleClosed).ConfigureAwait(false);
            return;
        }

        await QuietlyAsync(PersistAsync()).ConfigureAwait(false);
        try
        {
            await backend.DetachAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            EngineLog.DetachFailed(_engine.Options.Logger, Id, e);
            await TerminateCoreAsync(StopIntent.ServiceStop).ConfigureAwait(false);
        }
    }

    private async Task QuietAsync(Task? task)
    {
        if (task is null)
        {
            return;
        }

        try
        {
            await task.WaitAsync(s_detachWait, _engine.Time).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Its outcome is already recorded (or it timed out and the record says where it was).
        }
    }
}
