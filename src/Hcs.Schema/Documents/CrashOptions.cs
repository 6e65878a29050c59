// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>CrashOptions</c> (2.3): options of <c>HcsCrashComputeSystem</c>.</summary>
public sealed record CrashOptions
{
    /// <summary>Kind of crash.</summary>
    public CrashType? Type { get; init; }
}

/// <summary>Schema <c>CrashType</c>.</summary>
public enum CrashType
{
    /// <summary>Crash the guest operating system.</summary>
    CrashGuest,
}
