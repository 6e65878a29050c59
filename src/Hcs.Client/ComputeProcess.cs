// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// The idiomatic async API over one process handle: stdio as <see cref="Stream"/>s, <see cref="WaitForExitAsync"/>,
/// <see cref="KillAsync"/>. Disposing closes the handle; it never kills the process.
/// </summary>
public sealed class ComputeProcess : IAsyncDisposable
{
    private readonly IProcessHandle _handle;

    internal ComputeProcess(IProcessHandle handle)
    {
        _handle = handle;
    }

    /// <summary>The process id in its system.</summary>
    public uint ProcessId => _handle.ProcessId;

    /// <summary>Writable stdin, if it was asked for (only on the handle that created the process).</summary>
    public Stream? StandardInput => _handle.Stdio?.StdIn;

    /// <summary>Readable stdout (the console, with EmulateConsole), if it was asked for.</summary>
    public Stream? StandardOutput => _handle.Stdio?.StdOut;

    /// <summary>Readable stderr, if it was asked for.</summary>
    public Stream? StandardError => _handle.Stdio?.StdErr;

    /// <summary>Waits until the process exits and its output is drained; returns its status.</summary>
    public async Task<ProcessStatus> WaitForExitAsync(CancellationToken cancellationToken = default) =>
        HcsJson.Deserialize<ProcessStatus>(await _handle.WaitForExitAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The current status (Exited false while running).</summary>
    public async Task<ProcessStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        HcsJson.Deserialize<ProcessStatus>(await _handle.GetPropertiesAsync(null, cancellationToken).ConfigureAwait(false));

    /// <summary>Kills the process. Exited → <c>HCS_E_PROCESS_ALREADY_STOPPED</c>.</summary>
    public Task KillAsync(CancellationToken cancellationToken = default) => _handle.TerminateAsync(cancellationToken);

    /// <summary>Sends POSIX signal <paramref name="signal"/>.</summary>
    public Task SignalAsync(int signal, CancellationToken cancellationToken = default) =>
        _handle.SignalAsync(HcsJson.Serialize(SignalProcessOptions.Posix(signal)), cancellationToken);

    /// <summary>Sends a console signal (CtrlC → SIGINT, CtrlBreak → SIGQUIT, CtrlClose/CtrlLogOff → SIGHUP, CtrlShutdown → SIGTERM).</summary>
    public Task SignalAsync(ProcessSignal signal, CancellationToken cancellationToken = default) =>
        _handle.SignalAsync(HcsJson.Serialize(SignalProcessOptions.Named(signal)), cancellationToken);

    /// <summary>Closes the process's stdin in the system, so it reads EOF.</summary>
    public Task CloseStandardInputAsync(CancellationToken cancellationToken = default) =>
        _handle.ModifyAsync(HcsJson.Serialize(new ProcessModifyRequest
        {
            Operation = ModifyOperation.CloseHandle,
            CloseHandle = new CloseHandle { Handle = StdHandle.StdIn },
        }), cancellationToken);

    /// <summary>Resizes the process's console.</summary>
    public Task ResizeConsoleAsync(ushort height, ushort width, CancellationToken cancellationToken = default) =>
        _handle.ModifyAsync(HcsJson.Serialize(new ProcessModifyRequest
        {
            Operation = ModifyOperation.ConsoleSize,
            ConsoleSize = new ConsoleSize { Height = height, Width = width },
        }), cancellationToken);

    /// <summary>This handle's events: <c>ProcessExited</c> (then the stream ends with the handle), or <c>ServiceDisconnect</c>.</summary>
    public async IAsyncEnumerable<HcsEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in _handle.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new HcsEvent(record.Type, record.EventData);
        }
    }

    /// <summary>Closes the handle.</summary>
    public ValueTask DisposeAsync() => _handle.DisposeAsync();
}
