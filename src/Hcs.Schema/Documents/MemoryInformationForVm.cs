// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>MemoryInformationForVm</c>: memory state of a VM.</summary>
public sealed record MemoryInformationForVm
{
    /// <summary>Number of virtual NUMA nodes.</summary>
    public uint? VirtualNodeCount { get; init; }

    /// <summary>Memory counters.</summary>
    public VmMemory? VirtualMachineMemory { get; init; }

    /// <summary>Per-node information, passed through unchanged.</summary>
    public IReadOnlyList<JsonElement>? VirtualNodes { get; init; }
}

/// <summary>Schema <c>VmMemory</c>: memory counters of a VM.</summary>
public sealed record VmMemory
{
    /// <summary>Available memory in MiB.</summary>
    public int? AvailableMemory { get; init; }

    /// <summary>Available memory buffer (percent).</summary>
    public int? AvailableMemoryBuffer { get; init; }

    /// <summary>Reserved memory in MiB.</summary>
    public ulong? ReservedMemory { get; init; }

    /// <summary>Assigned memory in MiB.</summary>
    public ulong? AssignedMemory { get; init; }

    /// <summary>Sleep-state active.</summary>
    public bool? SlpActive { get; init; }

    /// <summary>Memory balancing enabled.</summary>
    public bool? BalancingEnabled { get; init; }

    /// <summary>A dynamic-memory operation is in progress.</summary>
    public bool? DmOperationInProgress { get; init; }
}
