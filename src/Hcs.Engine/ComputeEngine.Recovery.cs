// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Recovery after a restart and the graceful detach of a stopping service (hcsd).</summary>
public sealed partial class ComputeEngine
{
    /// <summary>
    /// Brings back the systems recorded in <see cref="EngineOptions.Store"/> by an earlier life of the service. Call it
    /// once, before serving any client. For each record its backend re-adopts the system (nothing is ever started):
    /// live systems re-enter the registry in their real state (Created, Running, Paused) with no handle open; systems
    /// that ended while the service was down get their exit status (<c>UnexpectedExit</c> unless the backend knows the
    /// cause) and stay openable, so a client that reopens one sees <c>SystemExited</c>; half-started systems (a Create
    /// or Start in flight when the old service died, or a failed re-adoption) are terminated, never duplicated; a
    /// Terminate that was in flight is completed; live systems with <c>ShouldTerminateOnLastHandleClosed</c> are
    /// terminated (their handles died with the old service); records of a backend this service does not run are
    /// reported and kept. Then each backend cleans the runtime leftovers of every id that is not a live system.
    /// Stopped systems kept here are forgotten, and their records deleted, when the first handle opened on them
    /// closes, as any stopped system is; records of systems stopped longer ago than
    /// <see cref="EngineOptions.StoppedRecordRetention"/> are dropped. Without a store it does nothing.
    /// </summary>
    /// <returns>What was found and done, for the service's log.</returns>
    /// <exception cref="InvalidOperationException">Called twice, or after a system was created.</exception>
    /// <exception cref="HcsException">The store cannot be read (nothing was adopted or cleaned: the service must not guess).</exception>
    public async Task<RecoveryReport> RecoverAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ThrowIfDisposed(OperationLabels.Recover, null);
            if (_recovered || _systems.Count > 0)
            {
                throw new InvalidOperationException("RecoverAsync runs once, before the engine serves any client");
            }

            _recovered = true;
        }

        if (Options.Store is not { } store || Journal is not { } journal)
        {
            return new RecoveryReport();
        }

        IReadOnlyList<SystemRecord> records;
        try
        {
            records = await store.LoadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new HcsException(HResults.E_FAIL, OperationLabels.Recover, result: ResultError.From(HResults.E_FAIL, $"the state store cannot be read: {e.Message}"), inner: e);
        }

        var adopted = new List<RecoveredSystem>();
        var exited = new List<RecoveredSystem>();
        var halfStarted = new List<RecoveredSystem>();
        var terminateCompleted = new List<RecoveredSystem>();
        var noHandles = new List<RecoveredSystem>();
        var stopped = new List<RecoveredSystem>();
        var expired = new List<RecoveredSystem>();
        var backendMissing = new List<RecoveredSystem>();
        var problems = new List<RecoveredSystem>();
        var ended = new HashSet<string>(StringComparer.Ordinal);
        var logger = Options.Logger;
        var now = Time.GetUtcNow();

        foreach (var record in records.OrderBy(r => r.CreatedAt))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var backend = _backends.FirstOrDefault(b => string.Equals(b.Name, record.Backend, StringComparison.Ordinal));
            if (backend is null)
            {
                backendMissing.Add(new RecoveredSystem(record.Id, record.Backend, $"recorded {record.State}; no such backend in this service"));
                EngineLog.BackendMissing(logger, record.Id, record.Backend);
                continue;
            }

            ComputeSystem document;
            try
            {
                if (SystemIds.Check(record.Id) is { } bad)
                {
                    throw new HcsException(HResults.E_INVALIDARG, OperationLabels.Recover, result: ResultError.From(HResults.E_INVALIDARG, bad));
                }

                document = HcsJson.ParseComputeSystem(record.Document);
            }
            catch (HcsException e)
            {
                problems.Add(new RecoveredSystem(record.Id, record.Backend, $"unreadable record, left in the store: {e.Message}"));
                EngineLog.RecoveryProblem(logger, record.Id, "unreadable record, left in the store", e);
                continue;
            }

            if (record.State == SystemRecordState.Stopped && now - (record.StoppedAt ?? record.UpdatedAt) > Options.StoppedRecordRetention)
            {
                journal.DeleteInBackground(record.Id);
                expired.Add(new RecoveredSystem(record.Id, record.Backend, $"stopped at {record.StoppedAt ?? record.UpdatedAt:O}"));
                continue;
            }

            if (record.State is SystemRecordState.Creating or SystemRecordState.Starting or SystemRecordState.Stopping)
            {
                // Half-started or terminating: its record says it must not run on, so a live leftover of it is ended.
                ended.Add(record.Id);
            }

            var system = new SystemInstance(this, record, document, backend);
            lock (_gate)
            {
                _systems[record.Id] = system;
            }

            var (kind, detail) = await system.RecoverAsync(record, cancellationToken).ConfigureAwait(false);
            var entry = new RecoveredSystem(record.Id, record.Backend, detail);
            switch (kind)
            {
                case RecoveryKind.Adopted:
                    adopted.Add(entry);
                    EngineLog.Adopted(logger, record.Id, record.Backend, detail);
                    break;
                case RecoveryKind.ExitedWhileDown:
                    exited.Add(entry);
                    EngineLog.ExitedWhileDown(logger, record.Id, detail);
                    break;
                case RecoveryKind.TerminatedHalfStarted:
                    halfStarted.Add(entry);
                    EngineLog.TerminatedOnRecovery(logger, record.Id, "half-started", detail);
                    break;
                case RecoveryKind.TerminateCompleted:
                    terminateCompleted.Add(entry);
                    EngineLog.TerminatedOnRecovery(logger, record.Id, "terminate in flight", detail);
                    break;
                case RecoveryKind.TerminatedNoHandles:
                    noHandles.Add(entry);
                    EngineLog.TerminatedOnRecovery(logger, record.Id, "ShouldTerminateOnLastHandleClosed", detail);
                    break;
                default:
                    stopped.Add(entry);
                    break;
            }
        }

        // Every runtime leftover that is not a live system goes: stopped systems keep only their record.
        var orphans = new List<string>();
        var leftRunning = new List<string>();
        var live = Snapshot().Where(s => s.IsLive).ToList();
        foreach (var backend in _backends)
        {
            var known = live.Where(s => ReferenceEquals(s.Backend, backend)).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            try
            {
                foreach (var line in await backend.CleanOrphansAsync(known, ended, cancellationToken).ConfigureAwait(false))
                {
                    if (line.StartsWith(Backends.OrphanLines.LeftRunning, StringComparison.Ordinal))
                    {
                        var what = line[Backends.OrphanLines.LeftRunning.Length..];
                        leftRunning.Add($"{backend.Name}: {what}");
                        EngineLog.LeftRunning(logger, backend.Name, what);
                        continue;
                    }

                    orphans.Add($"{backend.Name}: {line}");
                    EngineLog.OrphanCleaned(logger, backend.Name, line);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                problems.Add(new RecoveredSystem("", backend.Name, $"cleaning orphans failed: {e.Message}"));
                EngineLog.RecoveryProblem(logger, "", $"the {backend.Name} backend failed to clean orphans", e);
            }
        }

        await journal.FlushAsync().ConfigureAwait(false);
        return new RecoveryReport
        {
            Adopted = adopted,
            ExitedWhileDown = exited,
            TerminatedHalfStarted = halfStarted,
            TerminateCompleted = terminateCompleted,
            TerminatedNoHandles = noHandles,
            Stopped = stopped,
            Expired = expired,
            BackendMissing = backendMissing,
            OrphansCleaned = orphans,
            LeftRunning = leftRunning,
            Problems = problems,
        };
    }

    /// <summary>
    /// Graceful service stop (hcsd on SIGTERM): every session is disconnected exactly as <see cref="DisposeAsync"/>
    /// does (handles receive <c>ServiceDisconnect</c>, pending calls fail with <c>HCS_E_SERVICE_DISCONNECT</c>), but
    /// systems keep running: each backend detaches from its systems (<c>IBackendSystem.DetachAsync</c>), the store
    /// is flushed and closed. Systems with <c>ShouldTerminateOnLastHandleClosed</c> have just lost every handle and
    /// are terminated; a system whose backend cannot detach is terminated. Afterwards the engine is disposed
    /// (<see cref="DisposeAsync"/> does nothing more) and the next service instance calls <see cref="RecoverAsync"/>.
    /// </summary>
    public async ValueTask DetachAsync()
    {
        Session[] sessions;
        SystemInstance[] systems;
        SystemInstance[] releasing;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sessions = [.. _sessions];
            systems = [.. _systems.Values];
            releasing = [.. _releasing];
            _sessions.Clear();
            _systems.Clear();
        }

        await _disconnect.CancelAsync().ConfigureAwait(false);
        _disconnected.TrySetResult();
        foreach (var session in sessions)
        {
            session.OnServiceDisconnected();
        }

        await Task.WhenAll(systems.Select(DetachOneAsync)).ConfigureAwait(false);
        foreach (var system in systems.Concat(releasing))
        {
            await system.Released.ConfigureAwait(false);
        }

        if (Journal is not null)
        {
            await Journal.CloseAsync().ConfigureAwait(false);
        }

        _disconnect.Dispose();
    }

    /// <summary>Detaches one system; a failure is logged and must not keep the store from being flushed and closed.</summary>
    private async Task DetachOneAsync(SystemInstance system)
    {
        try
        {
            await system.DetachAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            EngineLog.DetachCrashed(Options.Logger, system.Id, e);
        }
    }
}
