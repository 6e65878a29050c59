// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Hcs.Engine.State;

/// <summary>
/// The engine's write-through to an <see cref="IStateStore"/>: transitions enqueue a record (or a delete) without
/// blocking, under the system's lock, so the queue holds them in transition order; one pump applies them in that
/// order. A failed write is logged and the next one goes on: the store never stops the engine. Callers that must
/// not act before the record is durable (the backend is about to construct or start something) await the write.
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

    /// <summary>Queues <paramref name="record"/>; the task completes once it was written (or its write failed and was logged).</summary>
    public Task SaveAsync(SystemRecord record)
    {
        var entry = new Entry(record.Id, record, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return EnqueueAsync(entry);
    }

    /// <summary>Queues the removal of <paramref name="id"/>'s record.</summary>
    public Task DeleteAsync(string id) =>
        EnqueueAsync(new Entry(id, null, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));

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
            }
            catch (Exception e)
            {
                EngineLog.StateWriteFailed(_logger, entry.Id!, entry.Record is null ? "delete" : entry.Record.State.ToString(), e);
            }
            finally
            {
                entry.Done.TrySetResult();
            }
        }
    }

    private sealed record Entry(string? Id, SystemRecord? Record, TaskCompletionSource Done);
}
