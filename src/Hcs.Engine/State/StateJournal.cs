// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Hcs.Schema;
using Microsoft.Extensions.Logging;

namespace Hcs.Engine.State;

/// <summary>
/// The engine's write-through to an <see cref="IStateStore"/>: transitions enqueue a record (or a delete) without
/// blocking, under the system's lock, so the queue holds them in transition order; one pump applies them in that
/// order. A failed write is logged and the next one goes on; the task of a failed write faults with an
/// <see cref="HcsException"/> (the store's own, e.g. <c>ERROR_DISK_FULL</c> naming the state directory, or
/// <c>E_FAIL</c> wrapping what it threw), so a call whose outcome must be durable fails instead of being acknowledged.
/// Writes whose outcome nobody awaits are queued with <see cref="SaveInBackground"/>.
/// </summary>
internal sealed class StateJournal
{
    private readonly IStateStore _store;
    private readonly ILogger _logger;
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _pump;

    public StateJournal(IStateStore store, ILogger logger)
    {
        _store = store;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Queues <paramref name="record"/>; the task completes once it is durable, or faults (<see cref="HcsException"/>) if its write failed.</summary>
    public Task SaveAsync(SystemRecord record)
    {
        var entry = new Entry(record.Id, record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return EnqueueAsync(entry);
    }

    /// <summary>Queues <paramref name="record"/> for a write nobody waits for (a failure is only logged).</summary>
    public void SaveInBackground(SystemRecord record) => Observe(SaveAsync(record));

    /// <summary>Queues the removal of <paramref name="id"/>'s record; the task faults if it failed.</summary>
    public Task DeleteAsync(string id) =>
        EnqueueAsync(new Entry(id, null, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));

    /// <summary>Queues the removal of <paramref name="id"/>'s record, nobody waiting (a failure is only logged).</summary>
    public void DeleteInBackground(string id) => Observe(DeleteAsync(id));

    /// <summary>Marks a write's failure as seen: it was logged by the pump, and nobody waits for it.</summary>
    public static void Observe(Task write) =>
        _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Completes when everything queued so far has been written.</summary>
    public Task FlushAsync() => EnqueueAsync(new Entry(null, null, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));

    /// <summary>Writes what is queued, refuses further writes, and closes the store.</summary>
    public async Task CloseAsync()
    {
        _queue.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
        try
        {
            await _store.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            EngineLog.StateStoreCloseFailed(_logger, e);
        }
    }

    private Task EnqueueAsync(Entry entry)
    {
        if (!_queue.Writer.TryWrite(entry))
        {
            // Closed: the service is stopping and a backend reported something late. Nothing can record it now.
            if (entry.Id is not null)
            {
                EngineLog.StateWriteAfterClose(_logger, entry.Id);
            }

            return Task.CompletedTask;
        }

        return entry.Done.Task;
    }

    private async Task PumpAsync()
    {
        await foreach (var entry in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                if (entry.Record is { } record)
                {
                    await _store.SaveAsync(record).ConfigureAwait(false);
                }
                else if (entry.Id is { } id)
                {
                    await _store.DeleteAsync(id).ConfigureAwait(false);
                }

                entry.Done.TrySetResult();
            }
            catch (Exception e)
            {
                var what = entry.Record is null ? "delete" : entry.Record.State.ToString();
                EngineLog.StateWriteFailed(_logger, entry.Id!, what, e);
                entry.Done.TrySetException(e is HcsException
                    ? e
                    : new HcsException(HResults.E_FAIL, OperationLabels.WriteState, entry.Id,
                        result: ResultError.From(HResults.E_FAIL, $"the state store could not write the record ({what}): {e.Message}"), inner: e));
            }
        }
    }

    private sealed record Entry(string? Id, SystemRecord? Record, TaskCompletionSource Done);
}
