// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// EventData of <c>HcsEventSystemExited</c> and result of <c>HcsWaitForComputeSystemExit</c> (schema <c>SystemExitStatus</c>).
/// </summary>
public sealed record SystemExitStatus
{
    /// <summary>HRESULT describing the exit: <c>S_OK</c> for a graceful exit, otherwise the reason.</summary>
    public int Status { get; init; }

    /// <summary>How the system exited.</summary>
    public NotificationType? ExitType { get; init; }

    /// <summary>Who or what caused the exit.</summary>
    public IReadOnlyList<AttributionRecord>? Attribution { get; init; }
}

/// <summary>Schema <c>NotificationType</c>: the <c>ExitType</c> of a stopped system.</summary>
public enum NotificationType
{
    /// <summary>None (the system has not exited).</summary>
    None,
    /// <summary>Guest-initiated power-off or <c>HcsShutDownComputeSystem</c>.</summary>
    GracefulExit,
    /// <summary><c>HcsTerminateComputeSystem</c> (or last handle closed with ShouldTerminateOnLastHandleClosed).</summary>
    ForcedExit,
    /// <summary>The worker died, the guest crashed, or the guest reset with <c>StopOnReset</c>.</summary>
    UnexpectedExit,
    /// <summary>Unknown.</summary>
    Unknown,
}
