// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// What system and process handles share: open/closed/disconnected state, the one event subscription, and running
/// calls so that every failure (even one found before any await) is a faulted task carrying the call's label.
/// </summary>
internal abstract class HandleBase : ISessionHandle
{
    private const int Open = 0;
    private const int Closed = 1;
    private const int Disconnected = 2;
    private Channel<HcsEventRecord>? _events; // guarded by the owning system's or process's gate
    private int _state;

    /// <summary>The system this handle concerns (for error labels).</summary>
    protected abstract string SystemId { get; }

    /// <summary>The process this handle concerns, if any (for error labels).</summary>
    protected abstract uint? ProcessIdForErrors { get; }

    /// <summary>Label of the subscribe call, e.g. <c>ComputeSystem.SetCallback</c>.</summary>
    protected abstract string SubscribeLabel { get; }

    /// <summary>Creates this handle's event channel; a second subscription is refused. Called under the owner's gate.</summary>
    internal Channel<HcsEventRecord> OpenEventChannel()
    {
        if (_events is not null)
        {
            throw new HcsException(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, SubscribeLabel, SystemId, ProcessIdForErrors);
        }

        _events = Channel.CreateUnbounded<HcsEventRecord>(new UnboundedChannelOptions { SingleReader = true });
        return _events;
    }

    /// <summary>Enqueues an event (non-blocking; lifecycle events are never dropped). Called under the owner's gate.</summary>
    internal void Deliver(HcsEventRecord record) => _events?.Writer.TryWrite(record);

    /// <inheritdoc />
    public void OnServiceDisconnected()
    {
        if (Interlocked.CompareExchange(ref _state, Disconnected, Open) != Open)
        {
            return;
        }

        var events = Volatile.Read(ref _events);
        events?.Writer.TryWrite(new HcsEventRecord(HcsEventType.ServiceDisconnect, null));
        events?.Writer.TryComplete();
    }

    /// <inheritdoc />
    public abstract ValueTask DisposeAsync();

    /// <summary>Marks the handle closed and ends its event stream; false if it was not open.</summary>
    protected bool TryClose()
    {
        if (Interlocked.CompareExchange(ref _state, Closed, Open) != Open)
        {
            return false;
        }

        Volatile.Read(ref _events)?.Writer.TryComplete();
        return true;
    }

    protected static async IAsyncEnumerable<HcsEventRecord> ReadAllAsync(ChannelReader<HcsEventRecord> reader,
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

    /// <summary>Runs a call so that every failure, even one detected before any await, is a faulted task.</summary>
    protected Task CallAsync(string label, Func<Task> call)
    {
        try
        {
            ThrowIfNotOpen(label);
            using var caller = HostCaller.Enter(Caller);
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException(HcsException.Wrap(e, label, SystemId, ProcessIdForErrors));
        }
    }

    /// <inheritdoc cref="CallAsync(string, Func{Task})"/>
    protected Task<T> CallAsync<T>(string label, Func<Task<T>> call)
    {
        try
        {
            ThrowIfNotOpen(label);
            using var caller = HostCaller.Enter(Caller);
            return call();
        }
        catch (Exception e)
        {
            return Task.FromException<T>(HcsException.Wrap(e, label, SystemId, ProcessIdForErrors));
        }
    }

    /// <summary>The client whose calls this handle makes: the backend uses host paths with its credentials.</summary>
    protected virtual HostCaller? Caller => null;

    /// <summary>Closed → <c>E_HANDLE</c>; after a service disconnect → <c>HCS_E_SERVICE_DISCONNECT</c>.</summary>
    protected void ThrowIfNotOpen(string label)
    {
        switch (Volatile.Read(ref _state))
        {
            case Closed:
                throw new HcsException(HResults.E_HANDLE, label, SystemId, ProcessIdForErrors);
            case Disconnected:
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, SystemId, ProcessIdForErrors);
        }
    }
}
