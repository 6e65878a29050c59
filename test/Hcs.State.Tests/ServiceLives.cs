// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Engine.State;

namespace Hcs.State.Tests;

/// <summary>
/// Successive lives of a service over one state directory and one <see cref="FakeBackend"/> (whose systems outlive
/// an engine, as QEMU and runc containers outlive hcsd): start, then crash (<c>kill -9</c>: the store writes nothing
/// more, the fake systems stop reporting, the engine is abandoned) or detach (SIGTERM), and start again.
/// </summary>
public sealed class ServiceLives : IAsyncDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly string? _stateDirectory;
    private readonly List<ComputeEngine> _abandoned = [];
    private CrashableStore _store = null!;

    public ServiceLives() => Engine = Start();

    /// <summary>Lives over <paramref name="stateDirectory"/> (e.g. on a <c>SmallDisk</c>) instead of a temporary directory.</summary>
    public ServiceLives(string stateDirectory)
    {
        _stateDirectory = stateDirectory;
        Engine = Start();
    }

    public FakeBackend Fake { get; } = new();

    public ListLogger Log { get; } = new();

    /// <summary>The current life's engine.</summary>
    public ComputeEngine Engine { get; private set; }

    public string StateDirectory => _stateDirectory ?? _dir.StateDirectory;

    public IComputeSession Session(uint uid = 1000, string name = "client") => Engine.OpenSession(new ClientIdentity(name, uid));

    /// <summary>Kills the current life: nothing more reaches the store, and its systems stop reporting to it.</summary>
    public async Task CrashAsync()
    {
        Fake.SeverAll();
        await _store.CrashAsync();
        _abandoned.Add(Engine);
    }

    /// <summary>Starts the next life and recovers (the current one must have crashed or detached).</summary>
    public Task<RecoveryReport> RestartAsync()
    {
        Engine = Start();
        return Engine.RecoverAsync(Docs.Ct);
    }

    /// <summary>Kills the current life and starts the next one, recovered.</summary>
    public async Task<RecoveryReport> CrashAndRestartAsync()
    {
        await CrashAsync();
        return await RestartAsync();
    }

    /// <summary>Stops the current life gracefully (detach) and starts the next one, recovered.</summary>
    public async Task<RecoveryReport> DetachAndRestartAsync()
    {
        await Engine.DetachAsync();
        return await RestartAsync();
    }

    /// <summary>The record of <paramref name="id"/> once <paramref name="condition"/> holds for it (null: once it is gone).</summary>
    public async Task<SystemRecord?> RecordWhenAsync(string id, Func<SystemRecord?, bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var record = (await RecordsAsync()).SingleOrDefault(r => r.Id == id);
            if (condition(record))
            {
                return record;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"the record of {id} never matched; last: {record}");
            }

            await Task.Delay(20, Docs.Ct);
        }
    }

    /// <summary>The records as a separate reader of <c>state.db</c> sees them now.</summary>
    public async Task<IReadOnlyList<SystemRecord>> RecordsAsync()
    {
        await using var reader = new SqliteStateStore(StateDirectory);
        return await reader.LoadAsync(Docs.Ct);
    }

    /// <summary>Writes a record behind the service's back (between two lives).</summary>
    public async Task WriteRecordAsync(SystemRecord record)
    {
        await using var writer = new SqliteStateStore(StateDirectory);
        await writer.SaveAsync(record, Docs.Ct);
    }

    /// <summary>Removes a record behind the service's back (between two lives).</summary>
    public async Task DeleteRecordAsync(string id)
    {
        await using var writer = new SqliteStateStore(StateDirectory);
        await writer.DeleteAsync(id, Docs.Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.DisposeAsync();
        _dir.Dispose();
    }

    private ComputeEngine Start()
    {
        _store = new CrashableStore(new SqliteStateStore(StateDirectory));
        return new ComputeEngine([Fake], new EngineOptions
        {
            Store = _store,
            Logger = Log,
            ShutdownTimeout = TimeSpan.FromSeconds(5),
        });
    }
}
