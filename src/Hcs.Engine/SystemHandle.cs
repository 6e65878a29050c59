// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// A handle to a system, owned by one session. Closing it never stops the system unless it was the last handle and
/// ShouldTerminateOnLastHandleClosed is set (then the close completes once the system is terminated and its id is free).
/// Calls on a closed handle fail with <c>E_HANDLE</c>; after a service
/// disconnect, with <c>HCS_E_SERVICE_DISCONNECT</c>.
/// </summary>
internal sealed class SystemHandle : ISystemHandle, ISessionHandle
{
    private readonly SystemInstance _system;
    private readonly Session _session;
    private Channel<HcsEventRecord>? _events; // guarded by the system's gate
    private int _state; // 0 open, 1 closed, 2 disconnected

    public SystemHandle(SystemInstance system, Session session)
    {
        _system = system;
        _session = session;
    }

    public string Id => _system.Id;

    internal SystemInstance System => _system;

    public Task WaitForCreatedAsync(CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Create", () => _system.WaitForCreatedAsync(cancellationToken));

    public Task StartAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Start", () => _system.StartAsync(options, cancellationToken));

    public Task ShutDownAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.ShutDown", () => _system.ShutDownAsync(options, cancellationToken));

    public Task TerminateAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Terminate", () => _system.TerminateAsync(options, cancellationToken));

    public Task PauseAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Pause", () => _system.PauseAsync(options, cancellationToken));

    public Task ResumeAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Resume", () => _system.ResumeAsync(options, cancellationToken));

    public Task SaveAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Save", () => _system.SaveAsync(options, cancellationToken));

    public Task CrashAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Crash", () => _system.CrashAsync(options, cancellationToken));

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Modify", () => _system.ModifyAsync(request, cancellationToken));

    public async Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default)
    {
        var properties = await CallAsync("ComputeSystem.GetProperties", () => _system.GetPropertiesAsync(query, cancellationToken)).ConfigureAwait(false);
        return SystemInstance.ToJson(properties);
    }

    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync("ComputeSystem.WaitForExit", () => _system.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        return HcsJson.Serialize(status);
    }

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen("ComputeSystem.SetCallback");
        var reader = _system.Subscribe(this);
        return ReadAllAsync(reader, cancellationToken);
    }

    private static async IAsyncEnumerable<HcsEventRecord> ReadAllAsync(ChannelReader<HcsEventRecord> reader,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var record))
            {
                yield return record;
            }
        }
    }

    public Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.Create", () => _system.CreateProcessAsync(_session, parameters, cancellationToken));

    public Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.Open", () => _system.OpenProcessAsync(_session, processId, cancellationToken));

    /// <summary>Creates this handle's event channel; a second subscription is refused. Called under the system's gate.</summary>
    internal Channel<HcsEventRecord> OpenEventChannel()
    {
        if (_events is not null)
        {
            throw new HcsException(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, "ComputeSystem.SetCallback", Id);
        }

        _events = Channel.CreateUnbounded<HcsEventRecord>(new UnboundedChannelOptions { SingleReader = true });
        return _events;
    }

    /// <summary>Enqueues an event (non-blocking; lifecycle events are never dropped). Called under the system's gate.</summary>
    internal void Deliver(HcsEventRecord record) => _events?.Writer.TryWrite(record);

    public void OnServiceDisconnected()
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) != 0)
        {
            return;
        }

        var events = Volatile.Read(ref _events);
        events?.Writer.TryWrite(new HcsEventRecord(HcsEventType.ServiceDisconnect, null));
        events?.Writer.TryComplete();
    }

    /// <summary>Closes the handle; if it was the last one and the system terminates on last close, completes once it has.</summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            Volatile.Read(ref _events)?.Writer.TryComplete();
            _session.Untrack(this);
            return new ValueTask(_system.RemoveHandleAsync(this));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs a call so that every failure, even one detected before any await, is a faulted task.</summary>
    private Task CallAsync(string label, Func<Task> call)
    {
        try
        {
            ThrowIfNotOpen(label);
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException(HcsException.Wrap(e, label, Id));
        }
    }

    private Task<T> CallAsync<T>(string label, Func<Task<T>> call)
    {
        try
        {
            ThrowIfNotOpen(label);
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException<T>(HcsException.Wrap(e, label, Id));
        }
    }

    private void ThrowIfNotOpen(string label)
    {
        switch (Volatile.Read(ref _state))
        {
            case 1:
                throw new HcsException(HResults.E_HANDLE, label, Id);
            case 2:
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, Id);
        }
    }
}
