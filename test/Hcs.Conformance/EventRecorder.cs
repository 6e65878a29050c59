// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>
/// Drains one handle's event stream in the background and records every event, so a test can await
/// "event X arrived" or "the stream ended" with a safety timeout instead of sleeping. The subscription is made
/// synchronously by <see cref="Start(ComputeSystem, TimeSpan)"/>: events raised after it returns are recorded.
/// </summary>
public sealed class EventRecorder : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<HcsEvent> _events = []; // guarded by _gate
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan _timeout;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously); // guarded by _gate
    private Task _pump = Task.CompletedTask;
    private Exception? _error; // guarded by _gate
    private bool _ended; // guarded by _gate

    private EventRecorder(TimeSpan timeout)
    {
        _timeout = timeout;
    }

    /// <summary>Every event recorded so far, in order.</summary>
    public IReadOnlyList<HcsEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>The event types recorded so far, in order.</summary>
    public IReadOnlyList<HcsEventType> Types => [.. Events.Select(e => e.Type)];

    /// <summary>Subscribes to <paramref name="system"/>'s events now and records them.</summary>
    public static EventRecorder Start(ComputeSystem system, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(system);
        var recorder = new EventRecorder(timeout);
        var enumerator = system.EventsAsync(recorder._stop.Token).GetAsyncEnumerator(recorder._stop.Token);
        var first = enumerator.MoveNextAsync(); // runs the iterator up to its first wait: the subscription is made here
        recorder._pump = recorder.PumpAsync(enumerator, first);
        return recorder;
    }

    /// <summary>Subscribes to a raw handle's events now (<see cref="ISystemHandle.ReadEventsAsync"/> subscribes on call) and records them.</summary>
    public static EventRecorder Start(ISystemHandle handle, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var recorder = new EventRecorder(timeout);
        var records = handle.ReadEventsAsync(recorder._stop.Token);
        var enumerator = Map(records).GetAsyncEnumerator(recorder._stop.Token);
        var first = enumerator.MoveNextAsync();
        recorder._pump = recorder.PumpAsync(enumerator, first);
        return recorder;
    }

    /// <summary>How many events of <paramref name="type"/> were recorded.</summary>
    public int Count(HcsEventType type) => Events.Count(e => e.Type == type);

    /// <summary>Waits until an event of <paramref name="type"/> has been recorded and returns the first one.</summary>
    public async Task<HcsEvent> WaitForAsync(HcsEventType type)
    {
        var deadline = Task.Delay(_timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var found = _events.Find(e => e.Type == type);
                if (found is not null)
                {
                    return found;
                }

                if (_ended)
                {
                    throw new InvalidOperationException(
                        $"the event stream ended without {type}; got [{string.Join(", ", _events.Select(e => e.Type))}]", _error);
                }

                changed = _changed.Task;
            }

            if (await Task.WhenAny(changed, deadline) == deadline)
            {
                throw new TimeoutException($"no {type} within {_timeout.TotalSeconds:0.#} s; got [{string.Join(", ", Types)}]");
            }
        }
    }

    /// <summary>Waits until the stream ends (the handle closed, or the service went away) and returns every event.</summary>
    public async Task<IReadOnlyList<HcsEvent>> WaitForEndAsync()
    {
        try
        {
            await _pump.WaitAsync(_timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the event stream did not end within {_timeout.TotalSeconds:0.#} s; got [{string.Join(", ", Types)}]");
        }

        lock (_gate)
        {
            if (_error is not null)
            {
                throw new InvalidOperationException("the event stream failed", _error);
            }

            return [.. _events];
        }
    }

    /// <summary>Stops reading (cancels the enumeration) and waits for the pump.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _pump.WaitAsync(_timeout);
        }
        catch (TimeoutException)
        {
            // The test already failed or passed; never hang its disposal.
        }

        _stop.Dispose();
    }

    private static async IAsyncEnumerable<HcsEvent> Map(IAsyncEnumerable<HcsEventRecord> records)
    {
        await foreach (var record in records)
        {
            yield return new HcsEvent(record.Type, record.EventData);
        }
    }

    private async Task PumpAsync(IAsyncEnumerator<HcsEvent> enumerator, ValueTask<bool> first)
    {
        try
        {
            var more = await first;
            while (more)
            {
                Record(enumerator.Current);
                more = await enumerator.MoveNextAsync();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed by the test.
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                _error = e;
            }
        }
        finally
        {
            try
            {
                await enumerator.DisposeAsync();
            }
            catch (Exception)
            {
                // Nothing left to observe.
            }

            TaskCompletionSource changed;
            lock (_gate)
            {
                _ended = true;
                changed = _changed;
            }

            changed.TrySetResult();
        }
    }

    private void Record(HcsEvent e)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _events.Add(e);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
