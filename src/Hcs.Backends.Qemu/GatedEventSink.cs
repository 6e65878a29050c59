// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Passes events on to the engine's sink until <see cref="Close"/>: a detached system reports nothing more (the VM lives
/// on and a later service adopts it), even from an event pump that is still finishing the event it was handling.
/// </summary>
internal sealed class GatedEventSink(IBackendEventSink inner) : IBackendEventSink
{
    private volatile bool _closed;

    public void Close() => _closed = true;

    public void CrashInitiated(CrashReport report)
    {
        if (!_closed)
        {
            inner.CrashInitiated(report);
        }
    }

    public void CrashReported(CrashReport report)
    {
        if (!_closed)
        {
            inner.CrashReported(report);
        }
    }

    public void GuestReset()
    {
        if (!_closed)
        {
            inner.GuestReset();
        }
    }

    public void GuestConnectionClosed(string? eventData = null)
    {
        if (!_closed)
        {
            inner.GuestConnectionClosed(eventData);
        }
    }

    public void RemoteConsoleStateChanged(string eventData)
    {
        if (!_closed)
        {
            inner.RemoteConsoleStateChanged(eventData);
        }
    }

    public void SiloJobCreated(string eventData)
    {
        if (!_closed)
        {
            inner.SiloJobCreated(eventData);
        }
    }

    public void StateChanged(SystemState state)
    {
        if (!_closed)
        {
            inner.StateChanged(state);
        }
    }

    public void RuntimeFactsChanged(string json)
    {
        if (!_closed)
        {
            inner.RuntimeFactsChanged(json);
        }
    }

    public void Stopped(BackendExit exit)
    {
        if (!_closed)
        {
            inner.Stopped(exit);
        }
    }
}
