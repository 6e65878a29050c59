// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Engine.Backends;

/// <summary>
/// Optional capability of an <see cref="IBackendSystem"/>: running processes inside the system (runc exec, a guest
/// agent). The engine checks state and owns handles, statuses and events; the backend starts the process and reports
/// its exit.
/// </summary>
public interface IBackendProcessHost
{
    /// <summary>Starts a process; the system is Running. Unsupported parameters fail with <c>HCS_E_INVALID_JSON</c> naming the member.</summary>
    Task<IBackendProcess> CreateProcessAsync(ProcessParameters parameters, IBackendProcessSink events, CancellationToken cancellationToken);
}

/// <summary>One process started by a backend.</summary>
public interface IBackendProcess : IAsyncDisposable
{
    /// <summary>The process id as seen in the system.</summary>
    uint ProcessId { get; }

    /// <summary>The host ends of the stdio streams that were asked for.</summary>
    ProcessStdio Stdio { get; }

    /// <summary>Delivers POSIX signal <paramref name="signal"/>.</summary>
    Task SignalAsync(int signal, CancellationToken cancellationToken);

    /// <summary>Kills the process (SIGKILL).</summary>
    Task KillAsync(CancellationToken cancellationToken);

    /// <summary>Closes the process's stdin so it reads EOF.</summary>
    Task CloseStdInAsync(CancellationToken cancellationToken);

    /// <summary>Resizes the process's console (pty).</summary>
    Task ResizeConsoleAsync(ushort height, ushort width, CancellationToken cancellationToken);
}

/// <summary>How a backend reports a process's end.</summary>
public interface IBackendProcessSink
{
    /// <summary>
    /// The process exited with <paramref name="exitCode"/> (128 + signal when killed by a signal) and its stdout and
    /// stderr have reached EOF. Called once.
    /// </summary>
    void Exited(int exitCode);
}
