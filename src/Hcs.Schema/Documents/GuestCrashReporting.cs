// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>GuestCrashReporting</c>: what to do when the guest crashes.</summary>
public sealed record GuestCrashReporting
{
    /// <summary>Windows crash dump settings.</summary>
    public WindowsCrashReporting? WindowsCrashSettings { get; init; }
}

/// <summary>Schema <c>WindowsCrashReporting</c>: crash dump settings.</summary>
public sealed record WindowsCrashReporting
{
    /// <summary>Dump file on the host.</summary>
    public string? DumpFileName { get; init; }

    /// <summary>Maximum dump size in bytes.</summary>
    public long? MaxDumpSize { get; init; }

    /// <summary>Kind of dump.</summary>
    public string? DumpType { get; init; }
}
