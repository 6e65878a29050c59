// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// Runs one handle's event callback, one event at a time, in order, on a thread-pool thread of its own: never under an
/// engine lock and never on a backend's thread. <see cref="Close"/> stops delivery and waits for a callback in flight
/// to return — unless called from that very callback, which would otherwise deadlock (WSL #41269).
/// <see cref="Dispose"/> is the same as <see cref="Close"/>.
/// </summary>
internal sealed class CallbackDispatcher : IDisposable
{
    [ThreadStatic]
    private static CallbackDispatcher? s_current;

    private readonly Channel<HcsEvent> _queue = Channel.CreateUnbounded<HcsEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HcsEventCallback _callback;
    private readonly object? _context;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Task _pump;
    private volatile bool _closed;

    public CallbackDispatcher(HcsEventCallback callback, object? context, IAsyncEnumerable<HcsEventRecord>? source)
    {
        _callback = callback;
        _context = context;
        _loop = Task.Run(LoopAsync);
        _pump = source is null ? Task.CompletedTask : Task.Run(() => PumpAsync(source));
    }

    /// <summary>Queues an event (OperationCallback, or one pumped from the service).</summary>
    public void Post(HcsEvent @event)
    {
        if (!_closed)
        {
            _queue.Writer.TryWrite(@event);
        }
    }

    private async Task PumpAsync(IAsyncEnumerable<HcsEventRecord> source)
    {
        try
        {
            await foreach (var record in source.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                Post(new HcsEvent(record.Type, record.EventData));
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_SERVICE_DISCONNECT)
        {
            Post(new HcsEvent(HcsEventType.ServiceDisconnect, null));
        }
    }

    private async Task LoopAsync()
    {
        await foreach (var @event in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (_closed)
            {
                return;
            }

            s_current = this;
            try
            {
                _callback(@event, _context);
            }
            catch (Exception e)
            {
                CallbackErrors.Report($"event callback ({@event.Type})", e);
            }
            finally
            {
                s_current = null;
            }
        }
    }

    /// <summary>Stops delivery; waits for an in-flight callback unless called from it.</summary>
    public void Close()
    {
        _closed = true;
        _queue.Writer.TryComplete();
        _stop.Cancel();
        if (s_current == this)
        {
            return;
        }

        Blocking.Run(_loop);
        Blocking.Run(_pump);
        _stop.Dispose();
    }

    public void Dispose() => Close();
}
