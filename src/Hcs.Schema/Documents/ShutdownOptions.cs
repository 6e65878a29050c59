// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ShutdownOptions</c> (2.5): options of <c>HcsShutDownComputeSystem</c>.</summary>
public sealed record ShutdownOptions
{
    /// <summary>How the guest is asked to shut down.</summary>
    public ShutdownMechanism? Mechanism { get; init; }

    /// <summary>Kind of shutdown.</summary>
    public ShutdownType? Type { get; init; }

    /// <summary>Force applications to close.</summary>
    public bool? Force { get; init; }

    /// <summary>Reason text.</summary>
    public string? Reason { get; init; }
}

/// <summary>Schema <c>ShutdownMechanism</c>.</summary>
public enum ShutdownMechanism
{
    /// <summary>Through the guest agent connection.</summary>
    GuestConnection,
    /// <summary>Through the shutdown integration service (ACPI on Linux hosts).</summary>
    IntegrationService,
}

/// <summary>Schema <c>ShutdownType</c>.</summary>
public enum ShutdownType
{
    /// <summary>Power off.</summary>
    Shutdown,
    /// <summary>Hibernate.</summary>
    Hibernate,
    /// <summary>Reboot.</summary>
    Reboot,
}
