// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>GuestState</c>: files that persist guest state.</summary>
public sealed record GuestState
{
    /// <summary>Guest state file (VMGS).</summary>
    public string? GuestStateFilePath { get; init; }

    /// <summary>Kind of the guest state file.</summary>
    public string? GuestStateFileType { get; init; }

    /// <summary>Runtime state file (VMRS).</summary>
    public string? RuntimeStateFilePath { get; init; }

    /// <summary>Do not persist state even if files are given.</summary>
    public bool? ForceTransientState { get; init; }
}

/// <summary>Schema <c>RestoreState</c>: saved state or template to start from.</summary>
public sealed record RestoreState
{
    /// <summary>Saved-state file to restore.</summary>
    public string? SaveStateFilePath { get; init; }

    /// <summary>Id of a template system to clone.</summary>
    public string? TemplateSystemId { get; init; }
}

/// <summary>Schema <c>GuestConnection</c>: how the service talks to the guest agent.</summary>
public sealed record GuestConnection
{
    /// <summary>Connect over vsock (hvsocket).</summary>
    public bool? UseVsock { get; init; }

    /// <summary>Keep the connection across suspend.</summary>
    public bool? UseConnectedSuspend { get; init; }

    /// <summary>Give the guest the host's time zone (2.4).</summary>
    [SchemaSince(2, 4)]
    public bool? UseHostTimeZone { get; init; }
}

/// <summary>Schema <c>StorageQoS</c>: storage limits.</summary>
public sealed record StorageQoS
{
    /// <summary>Maximum I/O operations per second.</summary>
    public ulong? IopsMaximum { get; init; }

    /// <summary>Maximum bandwidth in bytes per second.</summary>
    public ulong? BandwidthMaximum { get; init; }
}

/// <summary>Schema <c>DebugOptions</c>: dump files written on guest failures.</summary>
public sealed record DebugOptions
{
    /// <summary>Saved-state file written on a bugcheck.</summary>
    public string? BugcheckSavedStateFileName { get; init; }

    /// <summary>Saved-state file written on a bugcheck without a crash dump.</summary>
    public string? BugcheckNoCrashdumpSavedStateFileName { get; init; }

    /// <summary>Saved-state file written on a triple fault.</summary>
    public string? TripleFaultSavedStateFileName { get; init; }

    /// <summary>Firmware dump file.</summary>
    public string? FirmwareDumpFileName { get; init; }
}
