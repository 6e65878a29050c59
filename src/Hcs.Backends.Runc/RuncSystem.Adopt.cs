// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Engine.Backends;
using Hcs.Shim.Protocol;

namespace Hcs.Backends.Runc;

internal sealed partial class RuncSystem
{
    private string ShimSocket => Path.Combine(_layout.Directory, ShimProtocol.SocketName);

    /// <summary>
    /// A running or paused container adopted from an earlier life of the service: the monitor (not our child) is
    /// reached through its control socket, whose end is how its death is learnt.
    /// </summary>
    public static RuncSystem Adopted(BackendSystemContext context, RuncBackend backend, ContainerLayout layout, Scratch scratch,
        ShimClient shim, HostProcess monitor, int initPid, bool paused)
    {
        var system = new RuncSystem(context, backend, layout, scratch)
        {
            _shim = shim,
            _monitorProcess = monitor,
            _initPid = initPid,
            _paused = paused,
            _hasContainer = true,
            _runcStarted = true,
        };

        // Mapped directories added at run time: everything mounted under the runtime directory but the root itself.
        system._runtimeMounts.AddRange(MountTable.Under(layout.Directory).Where(p => p != layout.Rootfs));
        system._watch = system.WatchAsync(shim, monitor: null);
        system.ReportFacts();
        return system;
    }

    /// <summary>What a later <see cref="RuncBackend.AdoptAsync"/> needs to find this container again.</summary>
    internal RuncRuntimeFacts Facts()
    {
        string[] mounts;
        lock (_gate)
        {
            mounts = [.. _runtimeMounts];
        }

        return new RuncRuntimeFacts(RuncRuntimeFacts.CurrentVersion, _layout.Directory, _layout.Name, _backend.RuncRoot, _layout.Rootfs, _scratch.Root,
            _layout.CgroupsPath, _runcStarted, _monitorProcess is { } m ? new RuncMonitorFacts(m.Pid, m.StartTime, ShimSocket) : null,
            _initPid == 0 ? null : _initPid, mounts)
        {
            ScratchOwner = _scratch.Owner is { } owner ? new RuncScratchOwner(owner.Uid, owner.Gid, owner.Groups) : null,
        };
    }

    /// <summary>Reports <see cref="Facts"/> to the engine, which keeps the latest with the system's record.</summary>
    internal void ReportFacts() => _context.Events.RuntimeFactsChanged(Facts().ToJson());

    /// <summary>
    /// Lets go of the container without stopping it: the watcher ends, the control socket is closed (the monitor keeps
    /// running and accepts the next client), nothing is removed, and nothing is reported afterwards — neither the
    /// system's exit nor those of its processes. A later <see cref="DisposeAsync"/> releases nothing. Processes exec'd so
    /// far keep running, but their stdio was connected to this instance: a later adopter cannot re-attach it.
    /// </summary>
    public async ValueTask DetachAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _detached.TrySetResult();
        await _starting.WaitAsync(s_monitorExitBound, _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Interlocked.Exchange(ref _shim, null) is { } shim)
        {
            await shim.DisposeAsync().ConfigureAwait(false);
        }

        if (_watch is { } watch)
        {
            await watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_monitor is { } monitor)
        {
            _monitor = null;
            _ = ReapDetachedAsync(monitor);
        }
    }

    /// <summary>
    /// A detached monitor is still our child while this process lives: .NET reaps it when it ends as long as its
    /// <see cref="Process"/> is not disposed, so it is disposed only then (no zombie is left).
    /// </summary>
    private static async Task ReapDetachedAsync(Process monitor)
    {
        await monitor.WaitForExitAsync().ConfigureAwait(false);
        monitor.Dispose();
    }
}
