// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Engine.Backends;

/// <summary>
/// How a backend reports what happened to a system. Calls may come from any thread (a QMP reader, a SIGCHLD
/// watcher); the engine never runs client callbacks on it and never blocks it. Calls after
/// <see cref="Stopped"/> are ignored.
/// </summary>
public interface IBackendEventSink
{
    /// <summary>The guest began crashing (pvpanic, QMP GUEST_PANICKED).</summary>
    void CrashInitiated(CrashReport report);

    /// <summary>The guest crash is complete; the report carries the crash log.</summary>
    void CrashReported(CrashReport report);

    /// <summary>The guest reset itself. With <c>StopOnReset</c> the engine stops the system; otherwise it keeps running.</summary>
    void GuestReset();

    /// <summary>The connection to the guest closed (expected or not).</summary>
    void GuestConnectionClosed(string? eventData = null);

    /// <summary>A remote console session connected or disconnected; <paramref name="eventData"/> says which.</summary>
    void RemoteConsoleStateChanged(string eventData);

    /// <summary>The container's cgroup and namespaces exist (EventData: cgroup path, init pid).</summary>
    void SiloJobCreated(string eventData);

    /// <summary>The guest paused or resumed on its own (e.g. a panic with pause action).</summary>
    void StateChanged(SystemState state);

    /// <summary>
    /// What the backend needs to find this system again after a service restart (a QEMU's pid, start time and QMP
    /// socket; a runc container's id and monitor socket), as JSON the backend alone reads back in
    /// <see cref="IComputeBackend.AdoptAsync"/>. The engine persists the latest value with the system's record.
    /// </summary>
    void RuntimeFactsChanged(string json) { }

    /// <summary>The system stopped: the guest powered off, crashed, or the worker died. Exactly once is enough; extra calls are ignored.</summary>
    void Stopped(BackendExit exit);
}

/// <summary>Why a backend's system stopped.</summary>
/// <param name="Cause">The cause.</param>
/// <param name="WorkerExitCode">Exit status of the worker process (128 + signal when killed), when it died.</param>
/// <param name="Detail">Human-readable detail for the attribution record.</param>
/// <param name="CrashParameters">Crash parameters, for <see cref="BackendExitCause.GuestCrash"/>.</param>
public sealed record BackendExit(BackendExitCause Cause, uint? WorkerExitCode = null, string? Detail = null,
    IReadOnlyList<ulong>? CrashParameters = null);

/// <summary>Causes of a backend stop.</summary>
public enum BackendExitCause
{
    /// <summary>The guest powered off (or the container's init exited).</summary>
    GuestPowerOff,
    /// <summary>The guest crashed and the system stopped.</summary>
    GuestCrash,
    /// <summary>The worker process (QEMU, the container monitor) died on its own.</summary>
    WorkerDied,
    /// <summary>The worker ended because the engine terminated it.</summary>
    Terminated,
}
