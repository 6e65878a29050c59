// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>A handle to a process. Closing it never kills the process.</summary>
internal sealed class ProcessHandle : IProcessHandle, ISessionHandle
{
    private readonly ProcessInstance _process;
    private readonly Session _session;
    private Channel<HcsEventRecord>? _events; // guarded by the process's gate
    private int _state; // 0 open, 1 closed, 2 disconnected

    public ProcessHandle(ProcessInstance process, Session session, ProcessStdio? stdio)
    {
        _process = process;
        _session = session;
        Stdio = stdio;
    }

    public uint ProcessId => _process.ProcessId;

    public ProcessStdio? Stdio { get; }

    public Task SignalAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.Signal", () => _process.SignalAsync(options, cancellationToken));

    public Task TerminateAsync(CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.Terminate", () => _process.TerminateAsync(cancellationToken));

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.GetProperties", () => Task.FromResult(HcsJson.Serialize(_process.Status())));

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeProcess.Modify", () => _process.ModifyAsync(request, cancellationToken));

    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync("ComputeProcess.WaitForExit", () => _process.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        return HcsJson.Serialize(status);
    }

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen("ComputeProcess.SetCallback");
        return ReadAllAsync(_process.Subscribe(this), cancellationToken);
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

    internal Channel<HcsEventRecord> OpenEventChannel()
    {
        if (_events is not null)
        {
            throw new HcsException(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, "ComputeProcess.SetCallback", _process.SystemId, ProcessId);
        }

        _events = Channel.CreateUnbounded<HcsEventRecord>(new UnboundedChannelOptions { SingleReader = true });
        return _events;
    }

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

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _state, 1) != 1)
        {
            Volatile.Read(ref _events)?.Writer.TryComplete();
            _session.Untrack(this);
            _process.RemoveHandle(this);
        }

        return ValueTask.CompletedTask;
    }

    private Task CallAsync(string label, Func<Task> call)
    {
        try
        {
            ThrowIfNotOpen(label);
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException(HcsException.Wrap(e, label, _process.SystemId, ProcessId));
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
            return Task.FromException<T>(HcsException.Wrap(e, label, _process.SystemId, ProcessId));
        }
    }

    private void ThrowIfNotOpen(string label)
    {
        switch (Volatile.Read(ref _state))
        {
            case 1:
                throw new HcsException(HResults.E_HANDLE, label, _process.SystemId, ProcessId);
            case 2:
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, _process.SystemId, ProcessId);
        }
    }
}
