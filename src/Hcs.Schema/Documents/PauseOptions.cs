// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>PauseOptions</c>: options of <c>HcsPauseComputeSystem</c>.</summary>
public sealed record PauseOptions
{
    /// <summary>How deeply to suspend.</summary>
    public PauseSuspensionLevel? SuspensionLevel { get; init; }

    /// <summary>Notification sent to a hosted system.</summary>
    public HostedNotification? HostedNotification { get; init; }
}

/// <summary>Schema <c>HostedNotification</c>.</summary>
public sealed record HostedNotification
{
    /// <summary>Why the system is paused.</summary>
    public PauseReason? Reason { get; init; }
}

/// <summary>Schema <c>PauseSuspensionLevel</c>.</summary>
public enum PauseSuspensionLevel
{
    /// <summary>Suspend only.</summary>
    Suspend,
    /// <summary>Suspend and trim memory a little.</summary>
    MemoryLow,
    /// <summary>Suspend and trim memory more.</summary>
    MemoryMedium,
    /// <summary>Suspend and trim memory most.</summary>
    MemoryHigh,
}

/// <summary>Schema <c>PauseReason</c>.</summary>
public enum PauseReason
{
    /// <summary>No reason given.</summary>
    None,
    /// <summary>Pausing to save.</summary>
    Save,
    /// <summary>Pausing to make a template.</summary>
    Template,
}
