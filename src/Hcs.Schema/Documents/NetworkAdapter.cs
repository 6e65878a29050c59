// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>NetworkAdapter</c>: a network adapter connected to an endpoint.</summary>
public sealed record NetworkAdapter
{
    /// <summary>The network endpoint the adapter connects to.</summary>
    public Guid? EndpointId { get; init; }

    /// <summary>MAC address, e.g. <c>00-15-5D-00-00-01</c>.</summary>
    public string? MacAddress { get; init; }

    /// <summary>Adapter instance id (2.4).</summary>
    [SchemaSince(2, 4)]
    public Guid? InstanceId { get; init; }

    /// <summary>Do not batch interrupts.</summary>
    public bool? DisableInterruptBatching { get; init; }

    /// <summary>SR-IOV settings.</summary>
    public IovSettings? IovSettings { get; init; }

    /// <summary>Link state.</summary>
    public NetworkAdapterConnectionState? ConnectionState { get; init; }
}

/// <summary>Schema <c>IovSettings</c>: SR-IOV offload.</summary>
public sealed record IovSettings
{
    /// <summary>Offload weight (0 disables SR-IOV).</summary>
    public uint? OffloadWeight { get; init; }

    /// <summary>Requested queue pairs.</summary>
    public uint? QueuePairsRequested { get; init; }

    /// <summary>Interrupt moderation.</summary>
    public InterruptModerationMode? InterruptModeration { get; init; }
}

/// <summary>Schema <c>InterruptModerationName</c>.</summary>
public enum InterruptModerationMode
{
    /// <summary>Default.</summary>
    Default,
    /// <summary>Adaptive.</summary>
    Adaptive,
    /// <summary>Off.</summary>
    Off,
    /// <summary>Low.</summary>
    Low,
    /// <summary>Medium.</summary>
    Medium,
    /// <summary>High.</summary>
    High,
}

/// <summary>Schema <c>ConnectionState</c> of a network adapter.</summary>
public enum NetworkAdapterConnectionState
{
    /// <summary>Default.</summary>
    Default,
    /// <summary>Disconnected.</summary>
    Disabled,
    /// <summary>Connected.</summary>
    Enabled,
}
