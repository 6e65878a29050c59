// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Fake;

/// <summary>Where a detached or severed fake system's events go: nowhere (no engine listens).</summary>
internal sealed class NoEvents : IBackendEventSink
{
    public static NoEvents Instance { get; } = new();

    public void CrashInitiated(CrashReport report)
    {
    }

    public void CrashReported(CrashReport report)
    {
    }

    public void GuestReset()
    {
    }

    public void GuestConnectionClosed(string? eventData = null)
    {
    }

    public void RemoteConsoleStateChanged(string eventData)
    {
    }

    public void SiloJobCreated(string eventData)
    {
    }

    public void StateChanged(SystemState state)
    {
    }

    public void Stopped(BackendExit exit)
    {
    }
}
