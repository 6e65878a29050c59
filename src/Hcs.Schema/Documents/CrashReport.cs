// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>CrashReport</c>: EventData of the guest-crash events.</summary>
public sealed record CrashReport
{
    /// <summary>System that crashed.</summary>
    public string? SystemId { get; init; }

    /// <summary>Activity id.</summary>
    public Guid? ActivityId { get; init; }

    /// <summary>Windows crash information.</summary>
    public WindowsCrashReport? WindowsCrashInfo { get; init; }

    /// <summary>Bugcheck code and its four arguments.</summary>
    public IReadOnlyList<ulong>? CrashParameters { get; init; }

    /// <summary>Crash log (Linux guests).</summary>
    public string? CrashLog { get; init; }

    /// <summary>HRESULT of crash reporting.</summary>
    public int? Status { get; init; }

    /// <summary>Pre-OS (firmware) crash id.</summary>
    public uint? PreOSId { get; init; }

    /// <summary>No crash stack was captured.</summary>
    public bool? CrashStackUnavailable { get; init; }
}

/// <summary>Schema <c>WindowsCrashReport</c>.</summary>
public sealed record WindowsCrashReport
{
    /// <summary>Dump file.</summary>
    public string? DumpFile { get; init; }

    /// <summary>Guest OS major version.</summary>
    public uint? OsMajorVersion { get; init; }

    /// <summary>Guest OS minor version.</summary>
    public uint? OsMinorVersion { get; init; }

    /// <summary>Guest OS build number.</summary>
    public uint? OsBuildNumber { get; init; }

    /// <summary>Guest service pack major version.</summary>
    public uint? OsServicePackMajorVersion { get; init; }

    /// <summary>Guest service pack minor version.</summary>
    public uint? OsServicePackMinorVersion { get; init; }

    /// <summary>Guest suite mask.</summary>
    public uint? OsSuiteMask { get; init; }

    /// <summary>Guest product type.</summary>
    public uint? OsProductType { get; init; }

    /// <summary>HRESULT of dump writing.</summary>
    public int? Status { get; init; }

    /// <summary>Last phase reached.</summary>
    public WindowsCrashPhase? FinalPhase { get; init; }
}

/// <summary>Schema <c>WindowsCrashPhase</c>.</summary>
public enum WindowsCrashPhase
{
    /// <summary>Inactive.</summary>
    Inactive,
    /// <summary>Crash values captured.</summary>
    CrashValues,
    /// <summary>Dump starting.</summary>
    Starting,
    /// <summary>Dump started.</summary>
    Started,
    /// <summary>Dump writing.</summary>
    Writing,
    /// <summary>Dump complete.</summary>
    Complete,
}
