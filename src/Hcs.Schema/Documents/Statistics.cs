// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Statistics</c>: resource usage of a system.</summary>
public sealed record Statistics
{
    /// <summary>When the statistics were taken.</summary>
    public DateTimeOffset? Timestamp { get; init; }

    /// <summary>When the system started.</summary>
    public DateTimeOffset? ContainerStartTime { get; init; }

    /// <summary>Uptime in 100-ns ticks.</summary>
    public ulong? Uptime100ns { get; init; }

    /// <summary>Processor usage.</summary>
    public ProcessorStats? Processor { get; init; }

    /// <summary>Memory usage.</summary>
    public MemoryStats? Memory { get; init; }

    /// <summary>Storage usage.</summary>
    public StorageStats? Storage { get; init; }
}

/// <summary>Schema <c>ProcessorStats</c> (100-ns ticks).</summary>
public sealed record ProcessorStats
{
    /// <summary>Total run time.</summary>
    public ulong? TotalRuntime100ns { get; init; }

    /// <summary>User-mode run time.</summary>
    public ulong? RuntimeUser100ns { get; init; }

    /// <summary>Kernel-mode run time.</summary>
    public ulong? RuntimeKernel100ns { get; init; }
}

/// <summary>Schema <c>MemoryStats</c> (bytes).</summary>
public sealed record MemoryStats
{
    /// <summary>Committed memory.</summary>
    public ulong? MemoryUsageCommitBytes { get; init; }

    /// <summary>Peak committed memory.</summary>
    public ulong? MemoryUsageCommitPeakBytes { get; init; }

    /// <summary>Private working set.</summary>
    public ulong? MemoryUsagePrivateWorkingSetBytes { get; init; }
}

/// <summary>Schema <c>StorageStats</c>.</summary>
public sealed record StorageStats
{
    /// <summary>Read operations, normalised.</summary>
    public ulong? ReadCountNormalized { get; init; }

    /// <summary>Bytes read.</summary>
    public ulong? ReadSizeBytes { get; init; }

    /// <summary>Write operations, normalised.</summary>
    public ulong? WriteCountNormalized { get; init; }

    /// <summary>Bytes written.</summary>
    public ulong? WriteSizeBytes { get; init; }
}
