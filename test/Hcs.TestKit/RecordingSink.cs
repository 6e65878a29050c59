// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.TestKit;

/// <summary>
/// An engine stand-in for tests that drive a backend directly: records every event by name, every runtime facts
/// report, the SiloJobCreated data, and completes <see cref="Stopped"/> with the system's stop.
/// </summary>
public sealed class RecordingSink : IBackendEventSink
{
    private readonly Lock _gate = new();
    private readonly List<string> _events = [];
    private readonly List<string> _facts = [];
    private readonly TaskCompletionSource<BackendExit> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _silo;

    /// <summary>Called with each facts JSON as it is reported (e.g. to print it from a helper process).</summary>
    public Action<string>? OnFacts { get; init; }

    /// <summary>The latest runtime facts; throws when none were reported.</summary>
    public string Facts
    {
        get
        {
            lock (_gate)
            {
                return _facts.Count > 0 ? _facts[^1] : throw new InvalidOperationException("no runtime facts were reported");
            }
        }
    }

    /// <summary>The latest runtime facts, parsed.</summary>
    public JsonElement FactsJson => JsonDocument.Parse(Facts).RootElement;

    /// <summary>Every runtime facts report, in order.</summary>
    public IReadOnlyList<string> AllFacts
    {
        get
        {
            lock (_gate)
            {
                return [.. _facts];
            }
        }
    }

    /// <summary>The SiloJobCreated data, if raised.</summary>
    public string? Silo
    {
        get
        {
            lock (_gate)
            {
                return _silo;
            }
        }
    }

    /// <summary>Every event but the runtime facts, in order: its name (<c>StateChanged Running</c>, <c>Stopped GuestPowerOff</c>).</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Completes with the stop.</summary>
    public Task<BackendExit> Stopped => _stopped.Task;

    private void Add(string e)
    {
        lock (_gate)
        {
            _events.Add(e);
        }
    }

    /// <inheritdoc />
    public void CrashInitiated(CrashReport report) => Add("CrashInitiated");

    /// <inheritdoc />
    public void CrashReported(CrashReport report) => Add("CrashReported");

    /// <inheritdoc />
    public void GuestReset() => Add("GuestReset");

    /// <inheritdoc />
    public void GuestConnectionClosed(string? eventData = null) => Add("GuestConnectionClosed");

    /// <inheritdoc />
    public void RemoteConsoleStateChanged(string eventData) => Add("RemoteConsoleStateChanged");

    /// <inheritdoc />
    public void SiloJobCreated(string eventData)
    {
        lock (_gate)
        {
            _events.Add("SiloJobCreated");
            _silo = eventData;
        }
    }

    /// <inheritdoc />
    public void StateChanged(SystemState state) => Add($"StateChanged {state}");

    /// <inheritdoc />
    public void RuntimeFactsChanged(string json)
    {
        lock (_gate)
        {
            _facts.Add(json);
        }

        OnFacts?.Invoke(json);
    }

    void IBackendEventSink.Stopped(BackendExit exit)
    {
        Add($"Stopped {exit.Cause}");
        _stopped.TrySetResult(exit);
    }
}
