// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Write-through of the system's record (<see cref="EngineOptions.Store"/>).</summary>
internal sealed partial class SystemInstance
{
    /// <summary>
    /// Queues the current record. Takes <c>_gate</c> (re-entrant), so records are queued in transition order and a
    /// record is never queued after its delete (<see cref="ForgetRecord"/>). The task completes once it is durable and
    /// faults (an <see cref="HcsException"/> such as <c>ERROR_DISK_FULL</c>) if it could not be written: a call whose
    /// outcome must be durable awaits it and fails. Every record is a whole snapshot, so a later successful write
    /// also carries whatever an earlier failed one had.
    /// </summary>
    private Task PersistAsync()
    {
        if (_engine.Journal is not { } journal)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            return _recordDeleted || _constructionFailed ? Task.CompletedTask : journal.SaveAsync(ToRecord());
        }
    }

    /// <summary>Queues the current record for a write whose failure is only logged (what the record says there is re-read from the backend on recovery).</summary>
    private void PersistInBackground() => StateJournal.Observe(PersistAsync());

    /// <summary>The error of call <paramref name="label"/> whose record could not be written: the store's HRESULT and message under the call's label.</summary>
    private HcsException RecordFailed(Exception e, string label)
    {
        var error = e as HcsException ?? HcsException.Wrap(e, label, Id);
        return new HcsException(error.HResult, label, Id, result: error.Result, inner: e);
    }

    /// <summary>Awaits a write whose failure is only logged (by the journal).</summary>
    private static async Task QuietlyAsync(Task write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Logged by the journal (EngineLog 1001); what the record would have said is re-read on recovery.
        }
    }

    /// <summary>Deletes the record (the system is forgotten: its id is free). Called under the engine's registry lock.</summary>
    public void ForgetRecord()
    {
        if (_engine.Journal is not { } journal)
        {
            return;
        }

        lock (_gate)
        {
            if (!_recordDeleted)
            {
                _recordDeleted = true;
                journal.DeleteInBackground(Id);
            }
        }
    }

    /// <summary>The record as of now. Caller holds <c>_gate</c>.</summary>
    private SystemRecord ToRecord() => new()
    {
        Id = Id,
        OwnerUid = Creator.Uid,
        ClientName = Creator.Name,
        Grants = [.. _grants.Order()],
        Document = _documentJson,
        Backend = _backendKind.Name,
        RuntimeFacts = _runtimeFacts,
        RuntimeId = RuntimeId,
        State = RecordState(),
        ExitStatus = _exitStatus is null ? null : HcsJson.Serialize(_exitStatus),
        CreatedAt = CreatedAt,
        StartedAt = _startedAt,
        StoppedAt = _stoppedAt,
        UpdatedAt = _engine.Time.GetUtcNow(),
    };

    /// <summary>The lifecycle position to record. Caller holds <c>_gate</c>.</summary>
    private SystemRecordState RecordState() => _phase switch
    {
        SystemPhase.Stopped => SystemRecordState.Stopped,
        _ when _terminating is not null => SystemRecordState.Stopping,
        SystemPhase.Creating => SystemRecordState.Creating,
        SystemPhase.Created => _starting ? SystemRecordState.Starting : SystemRecordState.Created,
        SystemPhase.Running => SystemRecordState.Running,
        _ => SystemRecordState.Paused,
    };
}
