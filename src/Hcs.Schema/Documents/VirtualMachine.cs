// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualMachine</c>: the configuration of a virtual machine.</summary>
public sealed record VirtualMachine
{
    /// <summary>VM configuration version (2.5); latest when omitted.</summary>
    [SchemaSince(2, 5)]
    public Version? Version { get; init; }

    /// <summary>A guest reset stops the VM instead of rebooting it.</summary>
    public bool? StopOnReset { get; init; }

    /// <summary>Firmware and boot configuration.</summary>
    public Chipset? Chipset { get; init; }

    /// <summary>Memory, processors and NUMA.</summary>
    public Topology? ComputeTopology { get; init; }

    /// <summary>Virtual devices.</summary>
    public Devices? Devices { get; init; }

    /// <summary>Guest integration services (2.5), passed through unchanged.</summary>
    [SchemaSince(2, 5)]
    public JsonElement? Services { get; init; }

    /// <summary>Persistent guest state files; transient when omitted.</summary>
    public GuestState? GuestState { get; init; }

    /// <summary>State to restore or clone from at start.</summary>
    public RestoreState? RestoreState { get; init; }

    /// <summary>Registry changes applied to a Windows guest.</summary>
    public RegistryChanges? RegistryChanges { get; init; }

    /// <summary>Storage quality of service.</summary>
    public StorageQoS? StorageQoS { get; init; }

    /// <summary>Debug dump file names.</summary>
    public DebugOptions? DebugOptions { get; init; }

    /// <summary>Connect to the guest agent; start waits for it.</summary>
    public GuestConnection? GuestConnection { get; init; }

    /// <summary>Security settings (TPM, isolation).</summary>
    public SecuritySettings? SecuritySettings { get; init; }
}
