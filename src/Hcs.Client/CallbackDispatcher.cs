// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// Runs one handle's event callback, one event at a time, in order: never under an engine lock, never on a backend's
/// thread and never inside the caller of an Hcs* function. Events pumped from the service run on the pump's own
/// thread-pool work item as soon as it reads them (no further hop); an <see cref="Post">OperationCallback</see> posted
/// while no callback is running starts a thread-pool work item; one posted while a callback runs is queued behind it.
/// <see cref="Close"/> stops delivery and waits for a callback in flight to return — unless called from that very
/// callback, which would otherwise deadlock (WSL #41269). <see cref="Dispose"/> is the same as <see cref="Close"/>.
/// </summary>
internal sealed class CallbackDispatcher : IDisposable
{
    [ThreadStatic]
    private static CallbackDispatcher? s_current;

    private readonly Lock _gate = new();
    private readonly Queue<HcsEvent> _queue = new(); // guarded by _gate
    private readonly HcsEventCallback _callback;
    private readonly object? _context;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private bool _draining; // guarded by _gate: a thread is running callbacks from _queue
    private bool _closed; // guarded by _gate
    private TaskCompletionSource? _drained; // guarded by _gate: completes when the draining thread stops (Close waits on it)

    public CallbackDispatcher(HcsEventCallback callback, object? context, IAsyncEnumerable<HcsEventRecord>? source)
    {
        _callback = callback;
        _context = context;
        _pump = source is null ? Task.CompletedTask : Task.Run(() => PumpAsync(source));
    }

    /// <summary>Queues an event (an OperationCallback); the callback never runs on the calling thread.</summary>
    public void Post(HcsEvent @event)
    {
        if (Enqueue(@event))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.Drain(), this, preferLocal: false);
        }
    }

    /// <summary>Queues <paramref name="event"/>; true if the caller must now drain (no one else is).</summary>
    private bool Enqueue(HcsEvent @event)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _queue.Enqueue(@event);
            if (_draining)
            {
                return false;
            }

            _draining = true;
            return true;
        }
    }

    private async Task PumpAsync(IAsyncEnumerable<HcsEventRecord> source)
    {
        try
        {
            // The pump runs on thread-pool work items (the service's channels never continue inline), so it may run
            // the callback itself.
            await foreach (var record in source.WithCancellation(_stop.Token).ConfigureAwait(false))
            {
                if (Enqueue(new HcsEvent(record.Type, record.EventData)))
                {
                    Drain();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed.
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_SERVICE_DISCONNECT)
        {
            if (Enqueue(new HcsEvent(HcsEventType.ServiceDisconnect, null)))
            {
                Drain();
            }
        }
    }

    /// <summary>Runs queued callbacks until the queue is empty or the dispatcher closes.</summary>
    private void Drain()
    {
        while (true)
        {
            HcsEvent @event;
            lock (_gate)
            {
                if (_closed || !_queue.TryDequeue(out @event!))
                {
                    _draining = false;
                    _drained?.TrySetResult();
                    return;
                }
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
        Task? inFlight;
        lock (_gate)
        {
            if (_closed)
            {
                inFlight = _drained?.Task;
            }
            else
            {
                _closed = true;
                _queue.Clear();
                inFlight = _draining ? (_drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task : null;
            }
        }

        _stop.Cancel();
        if (s_current == this)
        {
            return;
        }

        if (inFlight is not null)
        {
            Blocking.Run(inFlight);
        }

        Blocking.Run(_pump);
    }

    public void Dispose() => Close();
}
