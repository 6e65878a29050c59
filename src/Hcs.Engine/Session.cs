// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>A client's session: owns the client's handles; disposing it closes them all.</summary>
internal sealed class Session : IComputeSession
{
    private readonly ComputeEngine _engine;
    private readonly Lock _gate = new();
    private readonly HashSet<ISessionHandle> _handles = []; // guarded by _gate
    private readonly CancellationTokenSource _disconnected = new();
    private bool _closed; // guarded by _gate

    public Session(ComputeEngine engine, ClientIdentity client)
    {
        _engine = engine;
        Client = client;
        Caller = HostCaller.Of(client);
    }

    public ClientIdentity Client { get; }

    /// <summary>The client as the backends see it when they use host paths it named; null for root.</summary>
    public HostCaller? Caller { get; }

    public CancellationToken Disconnected => _disconnected.Token;

    public Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.CreateSystem, id);
            using var caller = HostCaller.Enter(Caller);
            return Task.FromResult<ISystemHandle>(Track(_engine.CreateSystem(this, id, configuration)));
        }
        catch (Exception e)
        {
            return Task.FromException<ISystemHandle>(HcsException.Wrap(e, OperationLabels.CreateSystem, id));
        }
    }

    public Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.OpenSystem, id);
            return Task.FromResult<ISystemHandle>(Track(_engine.OpenSystem(this, id)));
        }
        catch (Exception e)
        {
            return Task.FromException<ISystemHandle>(HcsException.Wrap(e, OperationLabels.OpenSystem, id));
        }
    }

    public Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.EnumerateSystems, null);
            var parsed = HcsJson.DeserializeOptional<SystemQuery>(query);
            var result = new List<Properties>();
            foreach (var system in _engine.Snapshot())
            {
                if (system.CanAccess(Client.Uid) && system.Matches(parsed))
                {
                    result.Add(system.BasicProperties());
                }
            }

            return Task.FromResult(HcsJson.Serialize<IReadOnlyList<Properties>>(result));
        }
        catch (Exception e)
        {
            return Task.FromException<string>(HcsException.Wrap(e, OperationLabels.EnumerateSystems));
        }
    }

    public Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.GetServiceProperties, null);
            return Task.FromResult(ComputeEngine.GetServiceProperties(query));
        }
        catch (Exception e)
        {
            return Task.FromException<string>(HcsException.Wrap(e, OperationLabels.GetServiceProperties));
        }
    }

    public Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.SubmitWerReport, null);
            return _engine.SubmitWerReportAsync(settings, Client.Uid, cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<string>(HcsException.Wrap(e, OperationLabels.SubmitWerReport));
        }
    }

    public Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default)
    {
        try
        {
            ThrowIfClosed(OperationLabels.GrantAccess, id);
            return _engine.GrantAccessAsync(this, id, uid);
        }
        catch (Exception e)
        {
            return Task.FromException(HcsException.Wrap(e, OperationLabels.GrantAccess, id));
        }
    }

    internal void Untrack(ISessionHandle handle)
    {
        lock (_gate)
        {
            _handles.Remove(handle);
        }
    }

    /// <summary>The service went away: every handle's stream ends with ServiceDisconnect.</summary>
    internal void OnServiceDisconnected()
    {
        ISessionHandle[] handles;
        lock (_gate)
        {
            _closed = true;
            handles = [.. _handles];
            _handles.Clear();
        }

        _disconnected.Cancel();
        foreach (var handle in handles)
        {
            handle.OnServiceDisconnected();
        }
    }

    /// <summary>The client went away or closed its connection: close every handle (applying ShouldTerminateOnLastHandleClosed).</summary>
    public async ValueTask DisposeAsync()
    {
        ISessionHandle[] handles;
        lock (_gate)
        {
            if (_closed)
            {
                handles = [];
            }
            else
            {
                _closed = true;
                handles = [.. _handles];
                _handles.Clear();
            }
        }

        foreach (var handle in handles)
        {
            await handle.DisposeAsync().ConfigureAwait(false);
        }

        _engine.RemoveSession(this);
    }

    /// <summary>Makes the session own <paramref name="handle"/>; a closed session closes it at once and fails.</summary>
    internal T Track<T>(T handle) where T : ISessionHandle
    {
        lock (_gate)
        {
            if (!_closed)
            {
                _handles.Add(handle);
                return handle;
            }
        }

        _ = handle.DisposeAsync().AsTask();
        throw new HcsException(_disconnected.IsCancellationRequested ? HResults.HCS_E_SERVICE_DISCONNECT : HResults.E_HANDLE, "Session.Track");
    }

    private void ThrowIfClosed(string label, string? id)
    {
        lock (_gate)
        {
            if (_closed)
            {
                throw new HcsException(_disconnected.IsCancellationRequested ? HResults.HCS_E_SERVICE_DISCONNECT : HResults.E_HANDLE, label, id);
            }
        }
    }
}
