// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Write-through of the system's record (<see cref="EngineOptions.Store"/>).</summary>
internal sealed partial class SystemInstance
{
    /// <summary>
    /// Queues the current record. Takes <c>_gate</c> (re-entrant), so records are queued in transition order and a
    /// record is never queued after its delete (<see cref="ForgetRecord"/>). The task completes once it is written.
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
                _ = journal.DeleteAsync(Id);
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
