// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ProcessDetails</c>: one process of a system's process list.</summary>
public sealed record ProcessDetails
{
    /// <summary>Process id.</summary>
    public uint? ProcessId { get; init; }

    /// <summary>Image name.</summary>
    public string? ImageName { get; init; }

    /// <summary>Creation time.</summary>
    public DateTimeOffset? CreateTimestamp { get; init; }

    /// <summary>User time in 100-ns ticks.</summary>
    public ulong? UserTime100ns { get; init; }

    /// <summary>Kernel time in 100-ns ticks.</summary>
    public ulong? KernelTime100ns { get; init; }

    /// <summary>Committed bytes.</summary>
    public ulong? MemoryCommitBytes { get; init; }

    /// <summary>Private working set in bytes.</summary>
    public ulong? MemoryWorkingSetPrivateBytes { get; init; }

    /// <summary>Shared working set in bytes.</summary>
    public ulong? MemoryWorkingSetSharedBytes { get; init; }
}
