// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualMachine_Memory</c>: guest memory.</summary>
public sealed record VirtualMachineMemory
{
    /// <summary>How guest memory is backed.</summary>
    public MemoryBackingType? Backing { get; init; }

    /// <summary>Memory size in MiB (must not be 0).</summary>
    public ulong? SizeInMB { get; init; }

    /// <summary>Allow the host to overcommit memory.</summary>
    public bool? AllowOvercommit { get; init; }

    /// <summary>Backing page size.</summary>
    public MemoryBackingPageSize? BackingPageSize { get; init; }

    /// <summary>Fault cluster size, as a power of two.</summary>
    public uint? FaultClusterSizeShift { get; init; }

    /// <summary>Direct-map fault cluster size, as a power of two.</summary>
    public uint? DirectMapFaultClusterSizeShift { get; init; }

    /// <summary>Pin backing pages.</summary>
    public bool? PinBackingPages { get; init; }

    /// <summary>Forbid small backing pages.</summary>
    public bool? ForbidSmallBackingPages { get; init; }

    /// <summary>Enable hot-page hints.</summary>
    public bool? EnableHotHint { get; init; }

    /// <summary>Enable cold-page hints.</summary>
    public bool? EnableColdHint { get; init; }

    /// <summary>Enable cold-discard hints (free-page reporting).</summary>
    public bool? EnableColdDiscardHint { get; init; }

    /// <summary>Commit memory lazily.</summary>
    public bool? EnableDeferredCommit { get; init; }

    /// <summary>Size of the low MMIO gap in MiB.</summary>
    public ulong? LowMmioGapInMB { get; init; }

    /// <summary>Base of the high MMIO region in MiB.</summary>
    public ulong? HighMmioBaseInMB { get; init; }

    /// <summary>Size of the high MMIO gap in MiB.</summary>
    public ulong? HighMmioGapInMB { get; init; }

    /// <summary>How the NUMA distance table is built.</summary>
    public VirtualSlitType? SlitType { get; init; }
}

/// <summary>Schema <c>MemoryBackingType</c>.</summary>
public enum MemoryBackingType
{
    /// <summary>Physical (locked) host memory.</summary>
    Physical,
    /// <summary>Virtual (pageable) host memory.</summary>
    Virtual,
    /// <summary>Mixed.</summary>
    Hybrid,
}

/// <summary>Schema <c>MemoryBackingPageSize</c>.</summary>
public enum MemoryBackingPageSize
{
    /// <summary>Small (4 KiB) pages.</summary>
    Small,
    /// <summary>Large (2 MiB) pages.</summary>
    Large,
}

/// <summary>Schema <c>VirtualSlitType</c>.</summary>
public enum VirtualSlitType
{
    /// <summary>No distance table.</summary>
    None,
    /// <summary>From firmware.</summary>
    Firmware,
    /// <summary>Measured.</summary>
    Measured,
    /// <summary>From firmware, measured when absent.</summary>
    FirmwareFallbackMeasured,
}
