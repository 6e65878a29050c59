// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine.State;
using Hcs.Schema;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Hcs.State.Tests;

/// <summary>A directory under /tmp removed at dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory() => Path = Directory.CreateTempSubdirectory("hcs-state-").FullName;

    public string Path { get; }

    /// <summary>A state directory that does not exist yet (the store must create it).</summary>
    public string StateDirectory => System.IO.Path.Combine(Path, "state");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A store that can die with its service: after <see cref="CrashAsync"/> nothing it is asked to write reaches the
/// database (a killed daemon writes nothing more), and the connection is closed.
/// </summary>
public sealed class CrashableStore(IStateStore inner) : IStateStore
{
    private volatile bool _crashed;

    public async Task CrashAsync()
    {
        _crashed = true;
        await inner.DisposeAsync();
    }

    public Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default) => inner.LoadAsync(cancellationToken);

    public Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default) =>
        _crashed ? Task.CompletedTask : inner.SaveAsync(record, cancellationToken);

    public Task DeleteAsync(string id, CancellationToken cancellationToken = default) =>
        _crashed ? Task.CompletedTask : inner.DeleteAsync(id, cancellationToken);

    public ValueTask DisposeAsync() => _crashed ? ValueTask.CompletedTask : inner.DisposeAsync();
}

/// <summary>A store whose writes fail (a full disk, a read-only file system); counts the attempts.</summary>
public sealed class FailingStore : IStateStore
{
    private int _writes;

    public int Writes => Volatile.Read(ref _writes);

    public Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<SystemRecord>>([]);

    public Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        throw new IOException("disk full");
    }

    public Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _writes);
        return Task.FromException(new IOException("disk full"));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// An in-memory store whose writes fail (<c>ERROR_DISK_FULL</c>, as the SQLite store reports a full state directory)
/// while <see cref="Fail"/> says so for the record being written: the engine caught with its disk filling up at one
/// precise transition.
/// </summary>
public sealed class FaultyStore(Func<SystemRecord, bool> fail) : IStateStore
{
    private readonly Dictionary<string, SystemRecord> _records = [];

    public Func<SystemRecord, bool> Fail { get; set; } = fail;

    public IReadOnlyList<SystemRecord> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records.Values];
            }
        }
    }

    public Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default) => Task.FromResult(Records);

    public Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default)
    {
        if (Fail(record))
        {
            return Task.FromException(new HcsException(HResults.ERROR_DISK_FULL, "Service.WriteState",
                result: ResultError.From(HResults.ERROR_DISK_FULL, $"the state directory /faulty cannot be written (no space is left on its file system): {record.State}")));
        }

        lock (_records)
        {
            _records[record.Id] = record;
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_records)
        {
            _records.Remove(id);
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Collects log entries.</summary>
public sealed class ListLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception), exception));
}

/// <summary>Documents and small helpers over the contracts.</summary>
public static class Docs
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string Vm(string guestVerb = "idle", bool terminateOnLastHandleClosed = false) =>
        FakeDocuments.Vm(guestVerb, "hcs-state-tests", terminateOnLastHandleClosed: terminateOnLastHandleClosed);

    public static async Task<T> Within<T>(Task<T> task) => await task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

    public static async Task Within(Task task) => await task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

    public static async Task<HcsException> FailsWith(int hresult, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<HcsException>(() => call().WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(hresult == e.HResult, $"expected {HResults.NameOf(hresult)}, got {HResults.NameOf(e.HResult)}: {e.Message}");
        return e;
    }

    /// <summary>Creates a system and waits until it is constructed (Create's outcome, as a client of computecore sees it).</summary>
    public static async Task<ISystemHandle> CreatedAsync(IComputeSession session, string id, string? document = null)
    {
        var handle = await session.CreateSystemAsync(id, document ?? Vm(), Ct);
        await handle.WaitForCreatedAsync(Ct);
        return handle;
    }

    public static async Task<SystemState?> StateOf(ISystemHandle handle) =>
        HcsJson.Deserialize<Properties>(await Within(handle.GetPropertiesAsync(null, Ct))).State;

    public static async Task<SystemExitStatus> ExitOf(ISystemHandle handle) =>
        HcsJson.Deserialize<SystemExitStatus>(await Within(handle.WaitForExitAsync(Ct)));

    /// <summary>Reads a handle's events until (and including) the first of <paramref name="last"/>.</summary>
    public static async Task<List<HcsEventRecord>> EventsUntil(ISystemHandle handle, params HcsEventType[] last)
    {
        var events = new List<HcsEventRecord>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        await foreach (var record in handle.ReadEventsAsync(timeout.Token))
        {
            events.Add(record);
            if (last.Contains(record.Type))
            {
                break;
            }
        }

        return events;
    }
}

/// <summary>
/// An in-memory store that holds back the first write matching a condition until <see cref="Release"/>: a service
/// caught while it records an outcome.
/// </summary>
public sealed class GatedStore(Func<SystemRecord, bool> hold) : IStateStore
{
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, SystemRecord> _records = [];

    /// <summary>Completes when the held write has been asked for.</summary>
    public Task Held => _held.Task;

    public void Release() => _released.TrySetResult();

    public Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default)
    {
        lock (_records)
        {
            return Task.FromResult<IReadOnlyList<SystemRecord>>([.. _records.Values]);
        }
    }

    public async Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default)
    {
        if (!_held.Task.IsCompleted && hold(record))
        {
            _held.TrySetResult();
            await _released.Task.WaitAsync(cancellationToken);
        }

        lock (_records)
        {
            _records[record.Id] = record;
        }
    }

    public Task DeleteAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_records)
        {
            _records.Remove(id);
        }

        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Release();
        return ValueTask.CompletedTask;
    }
}
