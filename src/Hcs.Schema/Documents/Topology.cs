// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>Topology</c>: memory, processors and NUMA of a VM.</summary>
public sealed record Topology
{
    /// <summary>Memory.</summary>
    public VirtualMachineMemory? Memory { get; init; }

    /// <summary>Processors.</summary>
    public VirtualMachineProcessor? Processor { get; init; }

    /// <summary>NUMA topology, passed through unchanged.</summary>
    public JsonElement? Numa { get; init; }
}
