// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// One compute system inside the engine: phase, handles, exit status and event fan-out.
/// Invariants:
/// <list type="bullet">
/// <item>Phase changes and event enqueues happen under <c>_gate</c>, so every handle sees the same order and no system
/// event follows <c>SystemExited</c>.</item>
/// <item>The stop is finalised exactly once (<see cref="FinishStop"/>); afterwards pending calls fail with an HRESULT
/// derived from the exit, and the backend is released.</item>
/// <item>Lifecycle calls into the backend are serialised by <c>_lifecycle</c>; Terminate is not, so it can end a hung call.</item>
/// <item>No client code runs here: events go into per-handle channels that the client side drains on its own threads.</item>
/// </list>
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore and token source live as long as the system; they own no unmanaged resources.")]
internal sealed partial class SystemInstance : IBackendEventSink
{
    private readonly ComputeEngine _engine;
    private readonly IComputeBackend _backendKind;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly TaskCompletionSource _constructed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<SystemExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lifetime = new(); // cancelled when the system stops
    private readonly List<SystemHandle> _handles = []; // guarded by _gate
    private readonly Task _stoppedOrDisconnected;
    private SystemPhase _phase = SystemPhase.Creating; // guarded by _gate
    private IBackendSystem? _backend; // guarded by _gate
    private bool _backendReleased; // guarded by _gate
    private readonly TaskCompletionSource _releaseDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _constructionFailed; // guarded by _gate
    private StopIntent _intent; // guarded by _gate
    private Task? _terminating; // guarded by _gate
    private Task? _shuttingDown; // guarded by _gate
    private SystemExitStatus? _exitStatus; // guarded by _gate
    private DateTimeOffset? _startedAt; // guarded by _gate
    private DateTimeOffset? _stoppedAt; // guarded by _gate
    private readonly HashSet<uint> _grants = []; // guarded by _gate
    private readonly string _documentJson;
    private string? _runtimeFacts; // guarded by _gate: the backend's latest RuntimeFactsChanged
    private bool _starting; // guarded by _gate: a Start is in the backend (persisted as Starting)
    private bool _recordDeleted; // guarded by _gate: the record is gone (forgotten); nothing is persisted any more
    private bool _retainStopped; // guarded by _gate: stopped while the service was down: kept until a handle opened on it closes
    private Task? _inflight; // guarded by _gate: the latest serialised backend call, which may outlive its caller

    public SystemInstance(ComputeEngine engine, string id, ComputeSystem document, string documentJson, IComputeBackend backend, ClientIdentity creator)
    {
        _engine = engine;
        _backendKind = backend;
        _documentJson = documentJson;
        Id = id;
        Document = document;
        Creator = creator;
        CreatedAt = engine.Time.GetUtcNow();
        RuntimeId = Guid.NewGuid();
        _stoppedOrDisconnected = Task.WhenAny(_exited.Task, engine.Disconnected);
    }

    /// <summary>A system recorded by an earlier life of the service, before its backend re-adopts it (see <see cref="RecoverAsync"/>).</summary>
    public SystemInstance(ComputeEngine engine, SystemRecord record, ComputeSystem document, IComputeBackend backend)
    {
        _engine = engine;
        _backendKind = backend;
        _documentJson = record.Document;
        Id = record.Id;
        Document = document;
        Creator = new ClientIdentity(record.ClientName, record.OwnerUid);
        CreatedAt = record.CreatedAt;
        RuntimeId = record.RuntimeId == Guid.Empty ? Guid.NewGuid() : record.RuntimeId;
        _grants.UnionWith(record.Grants);
        _runtimeFacts = record.RuntimeFacts;
        _startedAt = record.StartedAt;
        _stoppedAt = record.StoppedAt;
        _stoppedOrDisconnected = Task.WhenAny(_exited.Task, engine.Disconnected);
    }

    public string Id { get; }

    /// <summary>Completes when the service goes away.</summary>
    public Task ServiceDisconnected => _engine.Disconnected;

    public ComputeSystem Document { get; }

    public ClientIdentity Creator { get; }

    public Guid RuntimeId { get; }

    /// <summary>The backend that hosts the system.</summary>
    public IComputeBackend Backend => _backendKind;

    /// <summary>True if <paramref name="uid"/> may open the system: root, its creator, or a granted uid.</summary>
    public bool CanAccess(uint uid)
    {
        if (uid == 0 || uid == Creator.Uid)
        {
            return true;
        }

        lock (_gate)
        {
            return _grants.Contains(uid);
        }
    }

    /// <summary>
    /// Lets <paramref name="uid"/> open the system; the task completes once the grant is durable. If it cannot be
    /// recorded the grant is withdrawn and the call fails with the store's error (a grant a restart would forget is
    /// never acknowledged).
    /// </summary>
    public async Task GrantAsync(uint uid)
    {
        Task recorded;
        lock (_gate)
        {
            if (!_grants.Add(uid))
            {
                return;
            }

            recorded = PersistAsync();
        }

        try
        {
            await recorded.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _grants.Remove(uid);
            }

            throw RecordFailed(e, OperationLabels.GrantAccess);
        }
    }

    /// <summary>The uids granted access besides the creator.</summary>
    public IReadOnlyList<uint> Grants
    {
        get
        {
            lock (_gate)
            {
                return [.. _grants];
            }
        }
    }

    public DateTimeOffset CreatedAt { get; }

    public SystemType SystemType => Document.VirtualMachine is not null ? SystemType.VirtualMachine : SystemType.Container;

    private bool TerminateOnLastHandleClosed => Document.ShouldTerminateOnLastHandleClosed ?? false;

    /// <summary>True while the system may be opened by id (it exists and construction did not fail).</summary>
    public bool IsOpenable
    {
        get
        {
            lock (_gate)
            {
                return !_constructionFailed;
            }
        }
    }

    /// <summary>
    /// True once the engine is stopping or has stopped the system: processes dying from now on are ended by the stop
    /// (with the system's exit HRESULT), not by their own exit reports, so the outcome does not depend on a race.
    /// </summary>
    public bool IsStopping
    {
        get
        {
            lock (_gate)
            {
                return _terminating is not null || _phase == SystemPhase.Stopped;
            }
        }
    }

    // ---- handles -------------------------------------------------------------------------------------------

    /// <summary>Adds a handle. Called under the engine's registry lock, so a concurrent Forget cannot interleave.</summary>
    public SystemHandle AddHandle(Session session)
    {
        var handle = new SystemHandle(this, session);
        lock (_gate)
        {
            _handles.Add(handle);
        }

        return handle;
    }

    /// <summary>
    /// Removes a handle. The last close terminates the system when ShouldTerminateOnLastHandleClosed is set (the
    /// returned task completes once it is terminated and forgotten, so the closing client can rely on the id being
    /// free), and forgets a stopped system so its id is free again.
    /// </summary>
    public Task RemoveHandleAsync(SystemHandle handle)
    {
        bool last;
        SystemPhase phase;
        lock (_gate)
        {
            if (!_handles.Remove(handle))
            {
                return Task.CompletedTask;
            }

            last = _handles.Count == 0;
            phase = _phase;
        }

        if (!last)
        {
            return Task.CompletedTask;
        }

        if (phase == SystemPhase.Stopped)
        {
            _engine.Forget(this);
        }
        else if (TerminateOnLastHandleClosed)
        {
            return TerminateCoreAsync(StopIntent.LastHandleClosed);
        }

        return Task.CompletedTask;
    }

    /// <summary>Starts a handle's event stream. A stopped system delivers SystemExited at once.</summary>
    public ChannelReader<HcsEventRecord> Subscribe(SystemHandle handle)
    {
        lock (_gate)
        {
            var channel = handle.OpenEventChannel();
            if (_exitStatus is not null)
            {
                channel.Writer.TryWrite(new HcsEventRecord(HcsEventType.SystemExited, HcsJson.Serialize(_exitStatus)));
            }

            return channel.Reader;
        }
    }

    /// <summary>Enqueues a system event on every subscribed handle, unless the system has already stopped.</summary>
    private void Emit(HcsEventType type, string? eventData)
    {
        lock (_gate)
        {
            if (_phase == SystemPhase.Stopped)
            {
                return;
            }

            var record = new HcsEventRecord(type, eventData);
            foreach (var handle in _handles)
            {
                handle.Deliver(record);
            }
        }
    }

    // ---- construction --------------------------------------------------------------------------------------

    public void BeginConstruction() => _ = ConstructAsync();

    private async Task ConstructAsync()
    {
        await _lifecycle.WaitAsync().ConfigureAwait(false);
        try
        {
            // The record exists before the backend builds anything, so a service that dies during construction
            // finds the system half-started on restart instead of leaving an unrecorded worker behind. If it cannot be
            // written (a full or read-only state directory), nothing is built and Create fails with the store's error.
            try
            {
                await PersistAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                FailConstruction(RecordFailed(e, OperationLabels.CreateSystem));
                return;
            }

            var context = new BackendSystemContext(Id, Document, this, _engine.Time);
            IBackendSystem backend;
            try
            {
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, _engine.DisconnectToken);
                backend = await _backendKind.CreateAsync(context, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                FailConstruction(e);
                return;
            }

            bool keep;
            var recorded = Task.CompletedTask;
            lock (_gate)
            {
                keep = _phase == SystemPhase.Creating;
                if (keep)
                {
                    _backend = backend;
                    _phase = SystemPhase.Created;
                    recorded = PersistAsync();
                }
            }

            try
            {
                await recorded.ConfigureAwait(false);
            }
            catch (Exception e) when (keep)
            {
                // Built but not recorded: a restart would not know it. Undo it (its runtime leftovers go with the
                // release) and fail Create, so an acknowledged system is always a recorded one.
                await ReleaseAsync(backend).ConfigureAwait(false);
                FailConstruction(RecordFailed(e, OperationLabels.CreateSystem));
                return;
            }

            if (!keep)
            {
                // Terminated (or the service stopped) while the backend was constructing: undo.
                await ReleaseAsync(backend).ConfigureAwait(false);
                _constructed.TrySetException(PendingFailure(null, OperationLabels.CreateSystem));
                return;
            }

            _constructed.TrySetResult();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private void FailConstruction(Exception e)
    {
        bool stoppedMeanwhile;
        lock (_gate)
        {
            stoppedMeanwhile = _phase == SystemPhase.Stopped;
            if (!stoppedMeanwhile)
            {
                _constructionFailed = true;
                _phase = SystemPhase.Stopped;
            }
        }

        if (stoppedMeanwhile || _engine.DisconnectToken.IsCancellationRequested)
        {
            // Terminated or the service went away while constructing: report that, not the backend's cancellation.
            _constructed.TrySetException(PendingFailure(null, OperationLabels.CreateSystem));
            return;
        }

        var error = HcsException.Wrap(e, OperationLabels.CreateSystem, Id);
        var result = error.Result with
        {
            Attribution = [.. error.Result.Attribution ?? [], new AttributionRecord { OperationFailure = new OperationFailure { Detail = OperationFailureDetail.Construct } }],
        };
        _constructed.TrySetException(new HcsException(error.HResult, OperationLabels.CreateSystem, Id, result: result, inner: e));
        _lifetime.Cancel();
        _engine.Forget(this);
    }

    /// <summary>Waits until construction ended. A failed construction means the system does not exist.</summary>
    private async Task WaitConstructedAsync(string label, CancellationToken cancellationToken)
    {
        try
        {
            await _constructed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new HcsException(HResults.ERROR_CANCELLED, label, Id);
        }
        catch (HcsException) when (label != OperationLabels.CreateSystem)
        {
            if (_engine.DisconnectToken.IsCancellationRequested)
            {
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, Id);
            }

            bool failed;
            lock (_gate)
            {
                failed = _constructionFailed;
            }

            if (failed)
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_NOT_FOUND, label, Id);
            }
        }
    }

    public Task WaitForCreatedAsync(CancellationToken cancellationToken) => _constructed.Task.WaitAsync(cancellationToken);

    // ---- stop ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Finalises the stop exactly once: records the exit status, fails pending calls, delivers SystemExited to every
    /// subscribed handle, releases the backend, and forgets the system if no handle is open.
    /// </summary>
    private void FinishStop(BackendExit? cause)
    {
        SystemExitStatus status;
        IBackendSystem? backend;
        bool forget;
        lock (_gate)
        {
            if (_exitStatus is not null)
            {
                return;
            }

            status = ExitStatuses.Compose(_intent, cause);
            _exitStatus = status;
            _phase = SystemPhase.Stopped;
            _stoppedAt = _engine.Time.GetUtcNow();
            backend = _backend;
            forget = _handles.Count == 0 && !_retainStopped;

            // Not awaited by anyone: a stop that is not recorded is found on restart as what it is (the backend finds
            // the worker gone), so only the precise exit type could be lost.
            PersistInBackground();
            var record = new HcsEventRecord(HcsEventType.SystemExited, HcsJson.Serialize(status));
            foreach (var handle in _handles)
            {
                handle.Deliver(record);
            }
        }

        _exited.TrySetResult(status);
        _lifetime.Cancel();
        StopProcesses(status);
        if (backend is not null)
        {
            _ = ReleaseAsync(backend);
        }

        if (forget)
        {
            _engine.Forget(this);
        }
    }

    /// <summary>Terminates (at most once) and disposes the backend system. Never throws.</summary>
    private async Task ReleaseAsync(IBackendSystem backend)
    {
        bool terminate;
        lock (_gate)
        {
            terminate = !_backendReleased;
            _backendReleased = true;
        }

        if (!terminate)
        {
            return;
        }

        try
        {
            await backend.TerminateAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The worker is gone either way; release what is left below.
        }

        try
        {
            await backend.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Best effort: a failed dispose must not keep the system registered.
        }
        finally
        {
            _releaseDone.TrySetResult();
        }
    }

    /// <summary>Completes when the backend system has been released (at once if its release never began).</summary>
    public Task Released
    {
        get
        {
            lock (_gate)
            {
                return _backendReleased ? _releaseDone.Task : Task.CompletedTask;
            }
        }
    }

    /// <summary>The service is going away: fail everything pending and release the backend, without events.</summary>
    public async Task ShutdownForServiceStopAsync()
    {
        IBackendSystem? backend;
        lock (_gate)
        {
            backend = _backend;
            _phase = SystemPhase.Stopped;
            _handles.Clear();
        }

        // The service terminates what it runs when it is disposed: nothing is left to recover.
        ForgetRecord();
        await _lifetime.CancelAsync().ConfigureAwait(false);
        if (backend is not null)
        {
            await ReleaseAsync(backend).ConfigureAwait(false);
        }
    }

    /// <summary>The error a call fails with when the system stopped (or the service went away) while it was pending.</summary>
    private HcsException PendingFailure(SystemVerb? verb, string label)
    {
        if (_engine.DisconnectToken.IsCancellationRequested)
        {
            return new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, Id);
        }

        SystemExitStatus? exit;
        lock (_gate)
        {
            exit = _exitStatus;
        }

        var hr = exit is null ? HResults.HCS_E_SYSTEM_ALREADY_STOPPED : ExitStatuses.PendingCallFailure(exit, verb);
        return new HcsException(hr, label, Id, result: new ResultError
        {
            Error = hr,
            ErrorMessage = $"{HResults.MessageOf(hr)} The system stopped while the call was pending.",
            Attribution = exit?.Attribution,
        });
    }

    public Task<SystemExitStatus> WaitForExitAsync(CancellationToken cancellationToken) =>
        WaitForExitCoreAsync(cancellationToken);

    private async Task<SystemExitStatus> WaitForExitCoreAsync(CancellationToken cancellationToken)
    {
        // A system whose construction failed never existed and will never exit: fail as every other call on it does.
        await WaitConstructedAsync(OperationLabels.WaitForSystemExit, cancellationToken).ConfigureAwait(false);
        var done = await Task.WhenAny(_stoppedOrDisconnected, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
        if (_exited.Task.IsCompleted)
        {
            return await _exited.Task.ConfigureAwait(false);
        }

        if (done == _stoppedOrDisconnected)
        {
            throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.WaitForSystemExit, Id);
        }

        throw new HcsException(HResults.ERROR_CANCELLED, OperationLabels.WaitForSystemExit, Id);
    }
}
