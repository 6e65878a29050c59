// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualMachine_Processor</c>: virtual processors and their limits.</summary>
public sealed record VirtualMachineProcessor
{
    /// <summary>Number of virtual processors (must not be 0).</summary>
    public uint? Count { get; init; }

    /// <summary>CPU limit, 1–100000 (100000 = 100%).</summary>
    public ulong? Limit { get; init; }

    /// <summary>Relative weight, 0–10000 (default 100).</summary>
    public ulong? Weight { get; init; }

    /// <summary>CPU reservation, 0–100000.</summary>
    public ulong? Reservation { get; init; }

    /// <summary>Maximum frequency in MHz.</summary>
    public uint? MaximumFrequencyMHz { get; init; }

    /// <summary>Expose virtualization extensions (nested virtualization).</summary>
    public bool? ExposeVirtualizationExtensions { get; init; }

    /// <summary>Expose the performance monitoring unit.</summary>
    public bool? EnablePerfmonPmu { get; init; }

    /// <summary>Expose architectural PMU events.</summary>
    public bool? EnablePerfmonArchPmu { get; init; }

    /// <summary>Expose precise event-based sampling.</summary>
    public bool? EnablePerfmonPebs { get; init; }

    /// <summary>Expose last-branch records.</summary>
    public bool? EnablePerfmonLbr { get; init; }

    /// <summary>Expose processor trace.</summary>
    public bool? EnablePerfmonIpt { get; init; }

    /// <summary>Enable page shattering.</summary>
    public bool? EnablePageShattering { get; init; }

    /// <summary>Hide speculation controls from the guest.</summary>
    public bool? DisableSpeculationControls { get; init; }

    /// <summary>Processor feature set, passed through unchanged.</summary>
    public JsonElement? ProcessorFeatureSet { get; init; }

    /// <summary>CPU group the VM runs in.</summary>
    public CpuGroup? CpuGroup { get; init; }

    /// <summary>NUMA processor settings, passed through unchanged.</summary>
    public JsonElement? NumaProcessorsSettings { get; init; }
}

/// <summary>Schema <c>CpuGroup</c>: a group of host processors.</summary>
public sealed record CpuGroup
{
    /// <summary>Group id (a GUID string).</summary>
    public string? Id { get; init; }
}

// hcsshim internal/hcs/schema2/processor_limits.go: Limit, Weight, Reservation uint64; MaximumFrequencyMHz uint32.
/// <summary>
/// Schema <c>ProcessorLimits</c> (hcsshim <c>hcsschema.ProcessorLimits</c>): the Settings of a modify request for
/// <c>VirtualMachine/ComputeTopology/Processor/Limits</c>, changing a running VM's CPU controls.
/// </summary>
public sealed record ProcessorLimits
{
    /// <summary>CPU limit, 1–100000 (100000 = 100% of the VM's processors).</summary>
    public ulong? Limit { get; init; }

    /// <summary>Relative weight, 0–10000 (default 100).</summary>
    public ulong? Weight { get; init; }

    /// <summary>CPU reservation, 0–100000.</summary>
    public ulong? Reservation { get; init; }

    /// <summary>Maximum frequency in MHz.</summary>
    public uint? MaximumFrequencyMHz { get; init; }
}
