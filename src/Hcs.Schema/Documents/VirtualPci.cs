// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualPciDevice</c>: a host PCI device assigned to a VM.</summary>
public sealed record VirtualPciDevice
{
    /// <summary>Functions of the device.</summary>
    public IReadOnlyList<VirtualPciFunction>? Functions { get; init; }

    /// <summary>Propagate the device's NUMA affinity to the guest.</summary>
    public bool? PropagateNumaAffinity { get; init; }
}

/// <summary>Schema <c>VirtualPciFunction</c>: one function of an assigned PCI device.</summary>
public sealed record VirtualPciFunction
{
    /// <summary>Host device instance path.</summary>
    public string? DeviceInstancePath { get; init; }

    /// <summary>Virtual function number.</summary>
    public ushort? VirtualFunction { get; init; }
}
