// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ComputeSystem</c>: the document given to <c>HcsCreateComputeSystem</c>.</summary>
public sealed record ComputeSystem
{
    /// <summary>Schema version of the document (2.1 when omitted).</summary>
    public Version? SchemaVersion { get; init; }

    /// <summary>Name of the owning client; used to filter enumerations.</summary>
    public string? Owner { get; init; }

    /// <summary>Id of an existing system that hosts <see cref="HostedSystem"/>.</summary>
    public string? HostingSystemId { get; init; }

    /// <summary>A system hosted inside <see cref="HostingSystemId"/>.</summary>
    public HostedSystem? HostedSystem { get; init; }

    /// <summary>A container (process isolation).</summary>
    public Container? Container { get; init; }

    /// <summary>A virtual machine.</summary>
    public VirtualMachine? VirtualMachine { get; init; }

    /// <summary>Terminate the system when its last handle closes.</summary>
    public bool? ShouldTerminateOnLastHandleClosed { get; init; }
}
