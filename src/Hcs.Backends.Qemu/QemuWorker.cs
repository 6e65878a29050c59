// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;

namespace Hcs.Backends.Qemu;

/// <summary>
/// The QEMU process of one VM, whichever way we know it. A QEMU this service started is its child: .NET's
/// <see cref="Process"/> reaps it and gives its exit status. A QEMU adopted after a service restart is not (its parent
/// died; PID 1 reaps it): its end is seen as the QMP connection's EOF followed by the process exiting
/// (<see cref="HostProcess.WaitForExitAsync(TimeSpan, TimeProvider, CancellationToken)"/>: pidfd readiness, or
/// <c>/proc/PID</c> gone or a zombie), its exit status is unknown, and it is killed only while its start time matches.
/// </summary>
internal sealed class QemuWorker : IDisposable
{
    /// <summary>Bound for an adopted QEMU to vanish from procfs after its QMP connection ended (PID 1 reaps every ~2 s).</summary>
    private static readonly TimeSpan s_goneTimeout = TimeSpan.FromSeconds(10);

    private readonly Process? _child;

    private QemuWorker(Process? child, int pid, ulong startTime)
    {
        _child = child;
        Pid = pid;
        StartTime = startTime;
    }

    /// <summary>A QEMU this service started (its child).</summary>
    public static QemuWorker Child(Process process) => new(process, process.Id, ProcessStat.Read(process.Id)?.StartTime ?? 0);

    /// <summary>A QEMU started by an earlier life of the service, recognised by pid and start time.</summary>
    public static QemuWorker Adopted(int pid, ulong startTime) => new(null, pid, startTime);

    public int Pid { get; }

    public ulong StartTime { get; }

    /// <summary>True when this service started it (exit status known).</summary>
    public bool IsChild => _child is not null;

    /// <summary>The exit status, once a child has exited; null for an adopted QEMU.</summary>
    public int? ExitCode => _child is { HasExited: true } child ? child.ExitCode : null;

    public bool HasExited => _child?.HasExited ?? !new HostProcess(Pid, StartTime).IsAlive;

    /// <summary>
    /// Completes when QEMU has exited. <paramref name="qmpClosed"/> (the QMP connection ending) is the signal for an
    /// adopted QEMU; its exit is then awaited, bounded.
    /// </summary>
    public async Task WaitForExitAsync(Task qmpClosed, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_child is not null)
        {
            await _child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        await qmpClosed.WaitAsync(cancellationToken).ConfigureAwait(false);
        await new HostProcess(Pid, StartTime).WaitForExitAsync(s_goneTimeout, time, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SIGKILL (an adopted QEMU only if its start time still matches).</summary>
    public void Kill()
    {
        if (_child is not null)
        {
            if (!_child.HasExited)
            {
                _child.Kill();
            }
        }
        else
        {
            new HostProcess(Pid, StartTime).Kill();
        }
    }

    /// <summary>Releases the <see cref="Process"/> object; QEMU itself is not touched (.NET still reaps a child it started).</summary>
    public void Dispose() => _child?.Dispose();
}
