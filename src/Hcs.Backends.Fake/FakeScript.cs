// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Fake;

/// <summary>
/// Scripted behaviour of one fake system, registered with <see cref="FakeBackend.Script"/> before the system is
/// created (the libvirt test-driver analog). Everything defaults to "works at once".
/// </summary>
public sealed record FakeScript
{
    /// <summary>Construction takes this long (cancellable by Terminate).</summary>
    public TimeSpan CreateDelay { get; init; }
    /// <summary>Construction fails with this HRESULT.</summary>
    public int? FailCreate { get; init; }
    /// <summary>Start takes this long (cancellable).</summary>
    public TimeSpan StartDelay { get; init; }
    /// <summary>Start fails with this HRESULT and the system stays Created.</summary>
    public int? FailStart { get; init; }
    /// <summary>
    /// With <see cref="FailStart"/>: the worker's exit (status 1) is reported before Start fails, and the failure carries
    /// a reason (a QEMU that exits because it cannot load a saved state, its exit recorded before Start's failure is mapped).
    /// </summary>
    public bool ExitBeforeFailingStart { get; init; }
    /// <summary>Start never completes unless cancelled or terminated (a guest that never connects).</summary>
    public bool HangStart { get; init; }
    /// <summary>The guest ignores the shutdown request (like a UEFI shell ignoring ACPI).</summary>
    public bool IgnoreShutdown { get; init; }
    /// <summary>The guest takes this long to power off after a shutdown request.</summary>
    public TimeSpan ShutdownDelay { get; init; }
    /// <summary>The guest connection drops this long after start.</summary>
    public TimeSpan? DropGuestConnectionAfter { get; init; }
    /// <summary>Pause fails with this HRESULT.</summary>
    public int? FailPause { get; init; }
    /// <summary>Re-adoption by a restarted engine fails with this HRESULT (the system stays as it is, for the orphan cleaner).</summary>
    public int? FailAdopt { get; init; }
    /// <summary>Detaching fails (a backend that cannot leave this system running without it).</summary>
    public bool FailDetach { get; init; }
    /// <summary>Properties calls take this long.</summary>
    public TimeSpan PropertiesDelay { get; init; }
}
