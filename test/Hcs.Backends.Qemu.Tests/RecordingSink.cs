// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>An engine stand-in for backend-level tests: records every event and the latest runtime facts.</summary>
internal sealed class RecordingSink : IBackendEventSink
{
    private readonly Lock _gate = new();
    private readonly List<string> _events = [];
    private readonly TaskCompletionSource<BackendExit> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _facts;

    /// <summary>Called with each facts JSON as it is reported (e.g. to print it from a helper process).</summary>
    public Action<string>? OnFacts { get; init; }

    public string Facts
    {
        get
        {
            lock (_gate)
            {
                return _facts ?? throw new InvalidOperationException("no runtime facts reported");
            }
        }
    }

    public QemuRuntimeFacts ParsedFacts => QemuRuntimeFacts.TryParse(Facts) ?? throw new InvalidOperationException($"unreadable facts: {Facts}");

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

    public Task<BackendExit> Stopped => _stopped.Task;

    private void Add(string e)
    {
        lock (_gate)
        {
            _events.Add(e);
        }
    }

    public void CrashInitiated(CrashReport report) => Add("CrashInitiated");

    public void CrashReported(CrashReport report) => Add("CrashReported");

    public void GuestReset() => Add("GuestReset");

    public void GuestConnectionClosed(string? eventData = null) => Add("GuestConnectionClosed");

    public void RemoteConsoleStateChanged(string eventData) => Add("RemoteConsoleStateChanged");

    public void SiloJobCreated(string eventData) => Add("SiloJobCreated");

    public void StateChanged(SystemState state) => Add($"StateChanged {state}");

    public void RuntimeFactsChanged(string json)
    {
        lock (_gate)
        {
            _facts = json;
        }

        OnFacts?.Invoke(json);
    }

    void IBackendEventSink.Stopped(BackendExit exit)
    {
        Add($"Stopped {exit.Cause}");
        _stopped.TrySetResult(exit);
    }
}
