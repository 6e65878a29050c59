// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc.Tests;

/// <summary>An engine's view of one backend system, for tests that drive a backend directly: facts, the stop, the rest counted.</summary>
internal sealed class RecordingSink : IBackendEventSink
{
    private readonly TaskCompletionSource<BackendExit> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _facts;
    private int _events;

    /// <summary>The latest runtime facts.</summary>
    public string? Facts => Volatile.Read(ref _facts);

    /// <summary>The latest runtime facts, parsed.</summary>
    public JsonElement FactsJson => JsonDocument.Parse(Facts ?? throw new InvalidOperationException("no runtime facts were reported")).RootElement;

    /// <summary>Every runtime facts report, in order.</summary>
    public List<string> AllFacts { get; } = [];

    /// <summary>The SiloJobCreated data, if raised.</summary>
    public string? Silo { get; private set; }

    /// <summary>How many events of any kind were reported.</summary>
    public int Events => Volatile.Read(ref _events);

    /// <summary>Completes with the stop.</summary>
    public Task<BackendExit> Stopped => _stopped.Task;

    public void RuntimeFactsChanged(string json)
    {
        Interlocked.Increment(ref _events);
        lock (AllFacts)
        {
            AllFacts.Add(json);
        }

        Volatile.Write(ref _facts, json);
    }

    void IBackendEventSink.Stopped(BackendExit exit)
    {
        Interlocked.Increment(ref _events);
        _stopped.TrySetResult(exit);
    }

    public void SiloJobCreated(string eventData)
    {
        Interlocked.Increment(ref _events);
        Silo = eventData;
    }

    public void CrashInitiated(CrashReport report) => Interlocked.Increment(ref _events);

    public void CrashReported(CrashReport report) => Interlocked.Increment(ref _events);

    public void GuestReset() => Interlocked.Increment(ref _events);

    public void GuestConnectionClosed(string? eventData = null) => Interlocked.Increment(ref _events);

    public void RemoteConsoleStateChanged(string eventData) => Interlocked.Increment(ref _events);

    public void StateChanged(SystemState state) => Interlocked.Increment(ref _events);
}

/// <summary>A process's exit, as the engine would receive it.</summary>
internal sealed class ProcessSink : IBackendProcessSink
{
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<int> Exited => _exited.Task;

    void IBackendProcessSink.Exited(int exitCode) => _exited.TrySetResult(exitCode);
}
