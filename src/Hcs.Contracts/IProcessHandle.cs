// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Contracts;

/// <summary>One handle to a process in a compute system (<c>HCS_PROCESS</c>).</summary>
public interface IProcessHandle : IAsyncDisposable
{
    /// <summary>The process id as seen in the system.</summary>
    uint ProcessId { get; }

    /// <summary>The stdio streams created with the process (only on the handle returned by create; null elsewhere).</summary>
    ProcessStdio? Stdio { get; }

    /// <summary>Sends a signal (<c>SignalProcessOptions</c>). Exited → <c>HCS_E_PROCESS_ALREADY_STOPPED</c>.</summary>
    Task SignalAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Kills the process. Exited → <c>HCS_E_PROCESS_ALREADY_STOPPED</c>.</summary>
    Task TerminateAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns the <c>ProcessStatus</c> JSON.</summary>
    Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default);

    /// <summary>Applies a <c>ProcessModifyRequest</c> (close stdin, console size).</summary>
    Task ModifyAsync(string request, CancellationToken cancellationToken = default);

    /// <summary>Completes with the <c>ProcessStatus</c> JSON once the process has exited and its output is drained.</summary>
    Task<string> WaitForExitAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts this handle's event subscription: <c>ProcessExited</c>, then the stream ends.</summary>
    IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Host-side ends of a process's stdio; absent streams are null.</summary>
/// <param name="StdIn">Writable stream to the process's stdin.</param>
/// <param name="StdOut">Readable stream of its stdout.</param>
/// <param name="StdErr">Readable stream of its stderr.</param>
public sealed record ProcessStdio(Stream? StdIn, Stream? StdOut, Stream? StdErr);
