// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Engine.State;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// The compute service engine (the <c>vmcompute</c> analog): the registry of compute systems, client sessions and
/// their handles, the state machine and event fan-out, over pluggable <see cref="IComputeBackend"/>s.
/// It knows nothing of transports, QEMU or runc. Disposing it is a service disconnect: every open handle receives
/// <c>ServiceDisconnect</c>, pending calls fail with <c>HCS_E_SERVICE_DISCONNECT</c>, and systems are terminated.
/// With a state store (<see cref="EngineOptions.Store"/>) a service can instead <see cref="DetachAsync"/> (the same
/// disconnect, systems keep running) and, in its next life, <see cref="RecoverAsync"/> them.
/// </summary>
public sealed partial class ComputeEngine : IComputeService
{
    /// <summary>
    /// Schema versions this service accepts, one entry each (2.0 through 2.5): a client that looks for 2.1 in the list
    /// finds it, as it would on Windows only if the service accepted it.
    /// </summary>
    public static readonly IReadOnlyList<Schema.Version> SupportedSchemaVersions =
        [.. Enumerable.Range((int)HcsJson.MinimumSchemaVersion.Minor, (int)(HcsJson.MaximumSchemaVersion.Minor - HcsJson.MinimumSchemaVersion.Minor + 1))
            .Select(minor => new Schema.Version { Major = HcsJson.MaximumSchemaVersion.Major, Minor = (uint)minor })];

    private readonly Lock _gate = new();
    private readonly Dictionary<string, SystemInstance> _systems = new(StringComparer.Ordinal); // guarded by _gate
    private readonly HashSet<SystemInstance> _releasing = []; // guarded by _gate: forgotten systems whose backend is still being released
    private readonly HashSet<Session> _sessions = []; // guarded by _gate
    private readonly IReadOnlyList<IComputeBackend> _backends;
    private readonly CancellationTokenSource _disconnect = new();
    private readonly CrashReportLedger _crashLedger;
    private readonly TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _disposed; // guarded by _gate
    private bool _recovered; // guarded by _gate

    /// <summary>Creates an engine over <paramref name="backends"/>.</summary>
    public ComputeEngine(IEnumerable<IComputeBackend> backends, EngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _backends = [.. backends];
        Options = options ?? new EngineOptions();
        CrashReports.ValidateDirectory(Options.CrashDirectory);
        Options.CrashReports.Validate();
        _crashLedger = new CrashReportLedger(Options.CrashReports);
        DisconnectToken = _disconnect.Token;
        Journal = Options.Store is { } store ? new StateJournal(store, Options.Logger) : null;
    }

    /// <summary>The engine's settings.</summary>
    public EngineOptions Options { get; }

    internal TimeProvider Time => Options.Time;

    /// <summary>The write-through to <see cref="EngineOptions.Store"/>, or null without a store.</summary>
    internal StateJournal? Journal { get; }

    /// <summary>Cancelled when the service goes away.</summary>
    /// <remarks>Captured at construction: <see cref="DisposeAsync"/> disposes the source, and calls still pending then must read it.</remarks>
    internal CancellationToken DisconnectToken { get; }

    /// <summary>Completes when the service goes away.</summary>
    internal Task Disconnected => _disconnected.Task;

    /// <summary>Number of systems in the registry (live, or stopped with handles still open).</summary>
    public int SystemCount
    {
        get
        {
            lock (_gate)
            {
                return _systems.Count;
            }
        }
    }

    /// <inheritdoc />
    public IComputeSession OpenSession(ClientIdentity client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var session = new Session(this, client);
        lock (_gate)
        {
            if (_disposed)
            {
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.Connect);
            }

            _sessions.Add(session);
        }

        return session;
    }

    internal void RemoveSession(Session session)
    {
        lock (_gate)
        {
            _sessions.Remove(session);
        }
    }

    internal SystemHandle CreateSystem(Session session, string id, string configuration)
    {
        const string Label = OperationLabels.CreateSystem;
        SystemIds.Validate(id, Label);
        ArgumentNullException.ThrowIfNull(configuration);
        ComputeSystem document;
        try
        {
            document = HcsJson.ParseComputeSystem(configuration);
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, Label, id, result: e.Result, inner: e);
        }

        var backend = PickBackend(document, id);
        backend.Validate(document);

        SystemInstance system;
        SystemHandle handle;
        lock (_gate)
        {
            ThrowIfDisposed(Label, id);
            if (_systems.ContainsKey(id))
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, Label, id);
            }

            system = new SystemInstance(this, id, document, configuration, backend, session.Client);
            _systems.Add(id, system);
            handle = system.AddHandle(session);
        }

        system.BeginConstruction();
        return handle;
    }

    internal SystemHandle OpenSystem(Session session, string id)
    {
        const string Label = OperationLabels.OpenSystem;
        lock (_gate)
        {
            ThrowIfDisposed(Label, id);
            if (id is null || !_systems.TryGetValue(id, out var system) || !system.IsOpenable)
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_NOT_FOUND, Label, id);
            }

            if (!system.CanAccess(session.Client.Uid))
            {
                throw new HcsException(HResults.HCS_E_ACCESS_DENIED, Label, id,
                    result: ResultError.From(HResults.HCS_E_ACCESS_DENIED, $"uid {session.Client.Uid} may not open this system: it belongs to uid {system.Creator.Uid} and was not granted"));
            }

            return system.AddHandle(session);
        }
    }

    internal Task GrantAccessAsync(Session session, string id, uint uid)
    {
        const string Label = OperationLabels.GrantAccess;
        lock (_gate)
        {
            ThrowIfDisposed(Label, id);
            if (id is null || !_systems.TryGetValue(id, out var system) || !system.IsOpenable || !system.CanAccess(session.Client.Uid))
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_NOT_FOUND, Label, id);
            }

            if (session.Client.Uid != 0 && session.Client.Uid != system.Creator.Uid)
            {
                throw new HcsException(HResults.HCS_E_ACCESS_DENIED, Label, id,
                    result: ResultError.From(HResults.HCS_E_ACCESS_DENIED, "only the system's owner or root may grant access to it"));
            }

            return system.GrantAsync(uid);
        }
    }

    internal IReadOnlyList<SystemInstance> Snapshot()
    {
        lock (_gate)
        {
            return [.. _systems.Values];
        }
    }

    /// <summary>Drops a system from the registry (stopped with no handle left, or failed construction). Its id becomes free.</summary>
    internal void Forget(SystemInstance system)
    {
        lock (_gate)
        {
            if (_systems.TryGetValue(system.Id, out var current) && ReferenceEquals(current, system))
            {
                _systems.Remove(system.Id);
            }

            // Under the registry lock: the delete is queued before a new system can take the id and record itself.
            system.ForgetRecord();
        }

        // Dispose waits for releases still under way (a runc container's mounts and cgroups, a QEMU's runtime directory).
        var released = system.Released;
        if (!released.IsCompleted)
        {
            lock (_gate)
            {
                _releasing.Add(system);
            }

            _ = released.ContinueWith(_ =>
            {
                lock (_gate)
                {
                    _releasing.Remove(system);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    internal static string GetServiceProperties(string? query)
    {
        var parsed = HcsJson.DeserializeOptional<ServicePropertyQuery>(query);
        var types = parsed?.PropertyTypes is { Count: > 0 } t ? t : [ServicePropertyType.Basic];
        var properties = new List<System.Text.Json.JsonElement>();
        Dictionary<string, PropertyResponse>? errors = null;
        foreach (var type in types)
        {
            if (type == ServicePropertyType.Basic)
            {
                var basic = new BasicInformation { SupportedSchemaVersions = SupportedSchemaVersions, ServiceVersion = HcsVersion.Number };
                properties.Add(HcsJson.SerializeToElement(basic));
            }
            else
            {
                errors ??= [];
                errors[type.ToString()] = new PropertyResponse
                {
                    Error = ResultError.From(HResults.ERROR_NOT_SUPPORTED, $"service property type '{type}' is not supported on Linux"),
                };
            }
        }

        return HcsJson.Serialize(new ServiceProperties { Properties = properties, PropertyResponses = errors });
    }

    /// <summary>Files a crash report in <see cref="EngineOptions.CrashDirectory"/> (<c>HcsSubmitWerReport</c>); returns its path.</summary>
    internal async Task<string> SubmitWerReportAsync(string settings, uint uid, CancellationToken cancellationToken)
    {
        try
        {
            return await CrashReports.SubmitAsync(settings, Options.CrashDirectory, _crashLedger, uid, Time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw HcsException.Wrap(e, OperationLabels.SubmitWerReport);
        }
    }

    private IComputeBackend PickBackend(ComputeSystem document, string id)
    {
        if (document.HostedSystem is not null)
        {
            throw HcsException.InvalidJson("$.HostedSystem", "hosted systems (containers inside a utility VM) are not supported by this service",
                OperationLabels.CreateSystem, id);
        }

        foreach (var backend in _backends)
        {
            if (backend.CanHost(document))
            {
                return backend;
            }
        }

        var path = document.VirtualMachine is not null ? "$.VirtualMachine" : "$.Container";
        throw HcsException.InvalidJson(path, "no backend of this service hosts this kind of compute system", OperationLabels.CreateSystem, id);
    }

    private void ThrowIfDisposed(string label, string? id)
    {
        if (_disposed)
        {
            throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, id);
        }
    }

    /// <summary>
    /// Service disconnect: marks every session disconnected, ends every handle's event stream with
    /// <c>ServiceDisconnect</c>, fails pending calls with <c>HCS_E_SERVICE_DISCONNECT</c>, then terminates and
    /// releases every system.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Session[] sessions;
        SystemInstance[] systems;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sessions = [.. _sessions];
            systems = [.. _systems.Values, .. _releasing];
            _sessions.Clear();
            _systems.Clear();
        }

        await _disconnect.CancelAsync().ConfigureAwait(false);
        _disconnected.TrySetResult();
        foreach (var session in sessions)
        {
            session.OnServiceDisconnected();
        }

        foreach (var system in systems)
        {
            await system.ShutdownForServiceStopAsync().ConfigureAwait(false);
            await system.Released.ConfigureAwait(false);
        }

        if (Journal is not null)
        {
            await Journal.CloseAsync().ConfigureAwait(false);
        }

        _disconnect.Dispose();
    }
}
