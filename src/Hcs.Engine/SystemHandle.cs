// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// A handle to a system, owned by one session. Closing it never stops the system unless it was the last handle and
/// ShouldTerminateOnLastHandleClosed is set (then the close completes once the system is terminated and its id is free).
/// Calls on a closed handle fail with <c>E_HANDLE</c>; after a service
/// disconnect, with <c>HCS_E_SERVICE_DISCONNECT</c>.
/// </summary>
internal sealed class SystemHandle : HandleBase, ISystemHandle
{
    private readonly SystemInstance _system;
    private readonly Session _session;

    public SystemHandle(SystemInstance system, Session session)
    {
        _system = system;
        _session = session;
    }

    public string Id => _system.Id;

    protected override string SystemId => _system.Id;

    protected override HostCaller? Caller => _session.Caller;

    protected override uint? ProcessIdForErrors => null;

    protected override string SubscribeLabel => OperationLabels.SetSystemCallback;

    public Task WaitForCreatedAsync(CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.CreateSystem, () => _system.WaitForCreatedAsync(cancellationToken));

    public Task StartAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Start, () => _system.StartAsync(options, cancellationToken));

    public Task ShutDownAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.ShutDown, () => _system.ShutDownAsync(options, cancellationToken));

    public Task TerminateAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Terminate, () => _system.TerminateAsync(options, cancellationToken));

    public Task PauseAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Pause, () => _system.PauseAsync(options, cancellationToken));

    public Task ResumeAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Resume, () => _system.ResumeAsync(options, cancellationToken));

    public Task SaveAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Save, () => _system.SaveAsync(options, cancellationToken));

    public Task CrashAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.Crash, () => _system.CrashAsync(options, cancellationToken));

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.ModifySystem, () => _system.ModifyAsync(request, cancellationToken));

    public async Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default)
    {
        var properties = await CallAsync(OperationLabels.GetSystemProperties, () => _system.GetPropertiesAsync(query, cancellationToken)).ConfigureAwait(false);
        return HcsJson.Serialize(properties);
    }

    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync(OperationLabels.WaitForSystemExit, () => _system.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        return HcsJson.Serialize(status);
    }

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen(OperationLabels.SetSystemCallback);
        var reader = _system.Subscribe(this);
        return ReadAllAsync(reader, cancellationToken);
    }

    public Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.CreateProcess, () => _system.CreateProcessAsync(_session, parameters, cancellationToken));

    public Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.OpenProcess, () => _system.OpenProcessAsync(_session, processId, cancellationToken));

    /// <summary>Closes the handle; if it was the last one and the system terminates on last close, completes once it has.</summary>
    public override ValueTask DisposeAsync()
    {
        if (TryClose())
        {
            _session.Untrack(this);
            return new ValueTask(_system.RemoveHandleAsync(this));
        }

        return ValueTask.CompletedTask;
    }
}
