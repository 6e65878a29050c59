// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>System_PropertyQuery</c>: which properties <c>HcsGetComputeSystemProperties</c> returns.</summary>
public sealed record SystemPropertyQuery
{
    /// <summary>Property types to return; none means basic properties only.</summary>
    public IReadOnlyList<SystemPropertyType>? PropertyTypes { get; init; }

    /// <summary>Named queries (2.5), answered in <see cref="Properties.PropertyResponses"/>.</summary>
    public IReadOnlyDictionary<string, JsonElement>? Queries { get; init; }
}

/// <summary>Schema <c>System_PropertyType</c>.</summary>
public enum SystemPropertyType
{
    /// <summary>Memory information.</summary>
    Memory,
    /// <summary>Statistics.</summary>
    Statistics,
    /// <summary>Process list.</summary>
    ProcessList,
    /// <summary>Whether closing the last handle terminates the system.</summary>
    TerminateOnLastHandleClosed,
    /// <summary>Shared memory regions.</summary>
    SharedMemoryRegion,
    /// <summary>Guest connection.</summary>
    GuestConnection,
    /// <summary>Guest memory.</summary>
    GuestMemory,
    /// <summary>Credential Guard.</summary>
    ContainerCredentialGuard,
    /// <summary>Integration heartbeat status.</summary>
    ICHeartbeatStatus,
    /// <summary>Processor topology.</summary>
    ProcessorTopology,
    /// <summary>CPU group.</summary>
    CpuGroup,
    /// <summary>System GUID.</summary>
    SystemGUID,
}
