// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ProcessStatus</c>: EventData of <c>HcsEventProcessExited</c> and process information.</summary>
public sealed record ProcessStatus
{
    /// <summary>Process id.</summary>
    public uint ProcessId { get; init; }

    /// <summary>The process has exited.</summary>
    public bool Exited { get; init; }

    /// <summary>Exit code; valid only when <see cref="Exited"/> and <see cref="LastWaitResult"/> is 0.</summary>
    public uint ExitCode { get; init; }

    /// <summary>HRESULT of the wait.</summary>
    public int LastWaitResult { get; init; }
}
