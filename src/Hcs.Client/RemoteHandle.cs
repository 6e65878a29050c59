// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// What system and process handles on hcsd share: the wire number, open/closed/disconnected, and the one event
/// subscription (events the session stream brings before the subscription are dropped, as the engine drops events
/// of a handle nobody subscribed to).
/// </summary>
internal abstract class RemoteHandle : IAsyncDisposable
{
    private const int Open = 0;
    private const int Closed = 1;
    private const int Disconnected = 2;
    private readonly Lock _gate = new();
    private Channel<HcsEventRecord>? _events; // guarded by _gate
    private HcsEventRecord? _exit; // guarded by _gate: SystemExited/ProcessExited, replayed to a late subscription as the engine does
    private int _state;

    protected RemoteHandle(RemoteSession session, ulong number)
    {
        Session = session;
        Number = number;
    }

    public ulong Number { get; }

    protected RemoteSession Session { get; }

    protected abstract string SystemIdForErrors { get; }

    protected abstract uint? ProcessIdForErrors { get; }

    protected abstract string SubscribeLabel { get; }

    public void Deliver(HcsEventRecord record)
    {
        lock (_gate)
        {
            if (record.Type == HcsEventType.ServiceDisconnect)
            {
                if (Interlocked.CompareExchange(ref _state, Disconnected, Open) != Open)
                {
                    return;
                }

                _events?.Writer.TryWrite(record);
                _events?.Writer.TryComplete();
                return;
            }

            if (record.Type is HcsEventType.SystemExited or HcsEventType.ProcessExited)
            {
                _exit = record;
            }

            _events?.Writer.TryWrite(record);
        }
    }

    /// <summary>The service went away: one <c>ServiceDisconnect</c>, then the stream ends.</summary>
    public void OnServiceDisconnected() => Deliver(new HcsEventRecord(HcsEventType.ServiceDisconnect, null));

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (Interlocked.CompareExchange(ref _state, Closed, Open) != Open)
            {
                if (Volatile.Read(ref _state) == Closed)
                {
                    return;
                }

                // Disconnected: closing is local only, and later calls still say the service went away.
                Session.Untrack(this);
                return;
            }

            _events?.Writer.TryComplete();
        }

        Session.Untrack(this);
        await Session.CloseOnServiceAsync(Number).ConfigureAwait(false);
    }

    protected IAsyncEnumerable<HcsEventRecord> SubscribeEventsAsync(CancellationToken cancellationToken)
    {
        ChannelReader<HcsEventRecord> reader;
        lock (_gate)
        {
            ThrowIfNotOpen(SubscribeLabel);
            if (_events is not null)
            {
                throw new HcsException(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, SubscribeLabel, SystemIdForErrors, ProcessIdForErrors);
            }

            _events = Channel.CreateUnbounded<HcsEventRecord>(new UnboundedChannelOptions { SingleReader = true });
            if (_exit is not null)
            {
                _events.Writer.TryWrite(_exit);
            }

            reader = _events.Reader;
        }

        return ReadAllAsync(reader, cancellationToken);
    }

    protected void ThrowIfNotOpen(string label)
    {
        switch (Volatile.Read(ref _state))
        {
            case Closed:
                throw new HcsException(HResults.E_HANDLE, label, SystemIdForErrors, ProcessIdForErrors);
            case Disconnected:
                throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, SystemIdForErrors, ProcessIdForErrors);
        }
    }

    protected async Task<string> JsonCallAsync(string label, Request request, CancellationToken cancellationToken)
    {
        ThrowIfNotOpen(label);
        return await Session.JsonAsync(label, SystemIdForErrors, ProcessIdForErrors, request, cancellationToken).ConfigureAwait(false);
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
}
