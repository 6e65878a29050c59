// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Hcs.Shim.Protocol;

namespace Hcs.Backends.Runc;

/// <summary>
/// One container. The engine serialises lifecycle calls; <see cref="TerminateAsync"/> may overtake them. The monitor
/// (<c>hcs-shim</c>) is our child while we live: its exit, or the init's exit event, is how the stop is learnt —
/// never by polling.
/// </summary>
internal sealed partial class RuncSystem : IBackendSystem
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private const int PauseAttempts = 5;
    private static readonly TimeSpan s_monitorExitBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_initReadyBound = TimeSpan.FromSeconds(10);

    private readonly BackendSystemContext _context;
    private readonly RuncBackend _backend;
    private readonly ContainerLayout _layout;
    private readonly Scratch _scratch;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _detached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Container _container; // guarded by _gate: the document as modified so far
    private Process? _monitor; // our child, when this instance started it (not when adopted)
    private HostProcess? _monitorProcess; // the monitor by pid and start time, whoever started it
    private bool _hasContainer; // runc has the container (a monitor was started or adopted): Dispose must delete it
    private bool _runcStarted; // runc start succeeded (reported in the runtime facts)
    private Task<string>? _monitorStderr;
    private ShimClient? _shim;
    private int _initPid;
    private Task? _watch;
    private int _terminating;
    private bool _paused; // guarded by _gate
    private bool _disposed;
    private Task _starting = Task.CompletedTask;
    private readonly Lazy<ContainerCgroup> _cgroup; // the hierarchies are found once, not on every property query

    public RuncSystem(BackendSystemContext context, RuncBackend backend, ContainerLayout layout, Scratch scratch,
        IReadOnlyDictionary<int, string>? stagedSources = null)
    {
        _context = context;
        _backend = backend;
        _layout = layout;
        _scratch = scratch;
        _container = context.Document.Container!;
        _cgroup = new(() => ContainerCgroup.Open(backend.Cgroups, layout.CgroupsPath));
        foreach (var (index, stage) in stagedSources ?? RuncBackend.StagedIn(layout))
        {
            _stagedSources[index] = stage;
        }
    }

    private string Id => _context.Id;

    /// <summary>True once the monitor runs (the container exists in runc).</summary>
    private bool Started => Volatile.Read(ref _shim) is not null;

    /// <summary>
    /// Starts the container. Recorded, because the engine may release the system (Terminate, then Dispose) while a Start
    /// is still in flight: the engine cancels it, and <see cref="DisposeAsync"/> waits for it to undo what it did.
    /// </summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var start = StartCoreAsync(cancellationToken);
        _starting = start;
        return start;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.Start;
        var start = new ProcessStartInfo(_backend.ShimPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["monitor", "--id", _layout.Name, "--bundle", _layout.Directory, "--runc", _backend.Settings.RuncPath,
            "--runc-root", _backend.RuncRoot, "--state", _layout.Directory])
        {
            start.ArgumentList.Add(argument);
        }

        var creating = CgroupParents.Creating();
        Process monitor;
        try
        {
            monitor = Process.Start(start) ?? throw new HcsException(HResults.E_FAIL, Label, Id);
        }
        catch
        {
            creating.Dispose();
            throw;
        }

        monitor.StandardInput.Close();
        _monitor = monitor;
        _monitorProcess = HostProcess.Of(monitor.Id);
        _hasContainer = true;
        _monitorStderr = monitor.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            string? line;
            using (creating)
            {
                line = await monitor.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }

            var ready = line is null ? null : ShimCodec.DecodeStarted(Encoding.UTF8.GetBytes(line));
            if (ready is not { Ready: true, InitPid: { } initPid })
            {
                var reason = ready?.Error ?? $"the container monitor exited: {(await _monitorStderr.ConfigureAwait(false)).Trim()}";
                throw new HcsException(HResults.E_FAIL, Label, Id, result: ResultError.From(HResults.E_FAIL, $"runc create failed: {reason}", "runc"));
            }

            _initPid = initPid;
            ShimClient shim;
            try
            {
                shim = await ShimClient.ConnectAsync(ShimSocket, cancellationToken).ConfigureAwait(false);
            }
            catch (ShimVersionException e)
            {
                // The monitor binary is of another build than this engine (hcs-shim was not republished with it).
                throw new HcsException(HResults.HCS_E_UNSUPPORTED_PROTOCOL_VERSION, Label, Id,
                    result: ResultError.From(HResults.HCS_E_UNSUPPORTED_PROTOCOL_VERSION, $"{e.Message} ({_backend.ShimPath})", "runc"));
            }

            Volatile.Write(ref _shim, shim);
            ReportFacts(); // a service killed from here on finds the monitor (and rolls the half-made container back)
            _context.Events.SiloJobCreated(new JsonObject
            {
                ["CgroupPath"] = _layout.CgroupsPath,
                ["InitProcessId"] = _initPid,
                ["RuntimeId"] = _layout.Name,
            }.ToJsonString());
            await _backend.RuncCheckedAsync(Label, Id, "start", _layout.Name, [], cancellationToken).ConfigureAwait(false);
            await WaitInitReadyAsync(shim, cancellationToken).ConfigureAwait(false);
            _runcStarted = true;
            _watch = WatchAsync(shim, monitor);
            ReportFacts();
        }
        catch (Exception e)
        {
            // Back to Created: no container, no monitor; the bundle stays for another Start.
            await UndoStartAsync().ConfigureAwait(false);
            if (e is JsonException)
            {
                throw new HcsException(HResults.E_FAIL, Label, Id, result: ResultError.From(HResults.E_FAIL, $"the container monitor said: {e.Message}", "runc"));
            }

            throw;
        }
    }

    /// <summary>
    /// Waits until the init can act on a shutdown request: the monitor reports it ready (the init says so once its
    /// SIGTERM handler is installed; docs/shim-protocol.md). Before that, a SIGTERM to the pid namespace's init is
    /// discarded by the kernel (default disposition), so a ShutDown right after Start would be lost. Bounded: past it,
    /// or once the init or the monitor is gone, Start completes anyway (the watcher reports an exit).
    /// </summary>
    private async Task WaitInitReadyAsync(ShimClient shim, CancellationToken cancellationToken)
    {
        Task readyOrGone = Task.WhenAny(shim.InitReady, shim.WaitExitAsync(_initPid), shim.Closed);
        await readyOrGone.WaitAsync(s_initReadyBound, _context.Time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task UndoStartAsync()
    {
        var monitor = _monitor;
        if (monitor is not null && !monitor.HasExited)
        {
            monitor.Kill();
        }

        if (monitor is not null)
        {
            await monitor.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            monitor.Dispose();
        }

        if (Interlocked.Exchange(ref _shim, null) is { } shim)
        {
            await shim.DisposeAsync().ConfigureAwait(false);
        }

        _monitor = null;
        _monitorProcess = null;
        // Only the container this Start made: when runc create failed because the name is taken, it is another's.
        await _backend.DeleteOwnContainerAsync(_layout, CancellationToken.None).ConfigureAwait(false);
        _hasContainer = false;
        if (!_disposed)
        {
            ReportFacts();
        }
    }

    /// <summary>
    /// Waits for the end: the init's exit event (the container stopped: cleanly if it exited 0 after SIGTERM), or the
    /// monitor's death without it (the worker died: the container is killed, since nothing would reap it any more). The
    /// monitor's death is its process exit when it is our child, else the end of its control socket (the kernel closes
    /// it when the monitor dies). Detaching ends the watch with no event.
    /// </summary>
    private async Task WatchAsync(ShimClient shim, Process? monitor)
    {
        var initExit = shim.WaitExitAsync(_initPid);
        var monitorGone = monitor is not null ? monitor.WaitForExitAsync() : shim.Closed;
        await Task.WhenAny(initExit, monitorGone, _detached.Task).ConfigureAwait(false);
        if (!initExit.IsCompleted && !_detached.Task.IsCompleted)
        {
            // Lines the monitor wrote before it exited are still in the socket.
            await shim.Closed.WaitAsync(TimeSpan.FromSeconds(2), _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (_detached.Task.IsCompleted)
        {
            return;
        }

        // The monitor writes exit/<pid>.json before it sends the event: a monitor killed in between leaves only the file.
        var status = initExit.IsCompletedSuccessfully ? await initExit.ConfigureAwait(false) : ProcessExit.ReadRecord(_layout.Directory, _initPid);
        BackendExit exit;
        if (status is not null)
        {
            exit = ExitOf(status, "");
        }
        else
        {
            int? code = null;
            if (monitor is not null)
            {
                await monitor.WaitForExitAsync().ConfigureAwait(false);
                code = ExitCodeOf(monitor);
            }
            else if (_monitorProcess is { } adopted && !await adopted.WaitForExitAsync(TimeSpan.FromSeconds(2), _context.Time).ConfigureAwait(false))
            {
                // Alive but no longer talking to us: another client took its connection (one service per runtime root).
                adopted.Kill();
            }

            await _backend.RuncAsync("kill", _layout.Name, [], ["KILL"], CancellationToken.None).ConfigureAwait(false);
            exit = new BackendExit(BackendExitCause.WorkerDied, code is { } c ? unchecked((uint)c) : null,
                code is { } known
                    ? string.Create(CultureInfo.InvariantCulture, $"the container monitor died ({known}); the container was killed")
                    : "the container monitor died; the container was killed");
        }

        _stopped.TrySetResult();
        if (Volatile.Read(ref _terminating) == 0 && !_detached.Task.IsCompleted)
        {
            _context.Events.Stopped(exit);
        }
    }

    /// <summary>
    /// How the end of the init maps to an exit: it exits 0 only after SIGTERM (or SIGINT, SIGHUP) once every process of
    /// the container ended, which is the guest powering off cleanly (whoever sent the signal: a ShutDown, the host);
    /// anything else (a signal, an OOM kill, another status) is the worker dying, with the status as its exit code.
    /// </summary>
    internal static BackendExit ExitOf(ProcessExit status, string when) => status is { Status: 0, Signal: null }
        ? new BackendExit(BackendExitCause.GuestPowerOff, 0, $"the container's init exited{when}")
        : new BackendExit(BackendExitCause.WorkerDied, unchecked((uint)status.Status), $"the container's init ended{when}: {status.Describe()}");

    private static int ExitCodeOf(Process process)
    {
        try
        {
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    public async Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken)
    {
        if (options is { Type: not null and not ShutdownType.Shutdown })
        {
            throw HcsException.InvalidJson("$.Type", $"'{options.Type}' is not supported for containers (only Shutdown)");
        }

        if (_shim is not { } shim)
        {
            // Never started: there is nothing to ask; the engine's stop of a Created system ends it.
            await TerminateAsync(cancellationToken).ConfigureAwait(false);
            _context.Events.Stopped(new BackendExit(BackendExitCause.GuestPowerOff));
            return;
        }

        try
        {
            await shim.SignalAsync(_initPid, SigTerm, cancellationToken).ConfigureAwait(false);
        }
        catch (ShimErrorException e) when (e.Code is ShimErrorCodes.Exited or "closed")
        {
            // Already ending: the exit is reported by the watcher.
        }
    }

    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _terminating, 1);
        if (_shim is not { } shim)
        {
            return;
        }

        try
        {
            await shim.SignalAsync(_initPid, SigKill, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ShimErrorException)
        {
            // Exited already, or the monitor is gone: runc kills what is left.
            await _backend.RuncAsync("kill", _layout.Name, [], ["KILL"], CancellationToken.None).ConfigureAwait(false);
        }

        bool paused;
        lock (_gate)
        {
            paused = _paused;
        }

        if (paused)
        {
            // A frozen task cannot die (cgroup v1 freezer): thaw it so the SIGKILL lands.
            await _backend.RuncAsync("resume", _layout.Name, CancellationToken.None).ConfigureAwait(false);
        }

        await WaitStoppedAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until the watcher saw the end; a monitor that does not exit within the bound is killed.</summary>
    private async Task WaitStoppedAsync()
    {
        if (_watch is null)
        {
            return;
        }

        try
        {
            await _stopped.Task.WaitAsync(s_monitorExitBound, _context.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            if (_monitor is { } monitor)
            {
                monitor.Kill(entireProcessTree: false);
            }
            else
            {
                _monitorProcess?.Kill();
            }

            await _backend.RuncAsync("kill", _layout.Name, [], ["KILL"], CancellationToken.None).ConfigureAwait(false);
            await _stopped.Task.ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <c>runc pause</c>. With the cgroup v1 freezer runc gives up ("unable to freeze", leaving the container thawed)
    /// when a task does not reach the refrigerator within its ~1000 quick tries, which a busy host causes: that is
    /// retried a few times before it is reported.
    /// </summary>
    public async Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.Pause;
        for (var attempt = 1; ; attempt++)
        {
            var result = await _backend.RuncAsync("pause", _layout.Name, cancellationToken).ConfigureAwait(false);
            if (result.ExitCode == 0)
            {
                break;
            }

            if (attempt >= PauseAttempts || !result.Message.Contains("unable to freeze", StringComparison.Ordinal))
            {
                throw new HcsException(HResults.E_FAIL, Label, Id,
                    result: ResultError.From(HResults.E_FAIL, $"runc pause failed ({result.ExitCode}): {result.Message}", "runc"));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), _context.Time, cancellationToken).ConfigureAwait(false);
        }

        lock (_gate)
        {
            _paused = true;
        }
    }

    public async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await _backend.RuncCheckedAsync(OperationLabels.Resume, Id, "resume", _layout.Name, [], cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _paused = false;
        }
    }

    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken) =>
        throw NotSupported(OperationLabels.Save, "a container's state cannot be saved (no checkpoint/restore here)");

    public Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken) =>
        throw NotSupported(OperationLabels.Crash, "a container has no guest kernel to crash");

    private HcsException NotSupported(string label, string message) =>
        new(HResults.ERROR_NOT_SUPPORTED, label, Id, result: ResultError.From(HResults.ERROR_NOT_SUPPORTED, message, "runc"));

    public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        var properties = new BackendProperties { RuntimeOsType = OsType.Linux };
        if (!Started || (!types.Contains(SystemPropertyType.Statistics) && !types.Contains(SystemPropertyType.ProcessList)))
        {
            return Task.FromResult(properties with
            {
                Processor = types.Contains(SystemPropertyType.Statistics) ? new ProcessorStats() : null,
                MemoryStats = types.Contains(SystemPropertyType.Statistics) ? new MemoryStats() : null,
                Storage = types.Contains(SystemPropertyType.Statistics) ? new StorageStats() : null,
                ProcessList = types.Contains(SystemPropertyType.ProcessList) ? [] : null,
            });
        }

        var cgroup = _cgroup.Value;
        if (types.Contains(SystemPropertyType.Statistics))
        {
            properties = properties with { Processor = cgroup.ReadProcessor(), MemoryStats = cgroup.ReadMemory(), Storage = cgroup.ReadStorage() };
        }

        if (types.Contains(SystemPropertyType.ProcessList))
        {
            properties = properties with { ProcessList = ProcessTable.Read(cgroup.ReadPids()) };
        }

        return Task.FromResult(properties);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _starting.WaitAsync(s_monitorExitBound, _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_hasContainer)
        {
            if (!_stopped.Task.IsCompleted)
            {
                // The engine normally terminated us already; a stopped container needs no second kill (runc kill costs ~8 ms).
                await TerminateAsync(CancellationToken.None).ConfigureAwait(false);
            }

            if (_monitor is { } monitor)
            {
                await monitor.WaitForExitAsync().WaitAsync(s_monitorExitBound, _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (!monitor.HasExited)
                {
                    monitor.Kill();
                }

                monitor.Dispose();
            }
            else if (_monitorProcess is { } adopted && !await adopted.WaitForExitAsync(s_monitorExitBound, _context.Time).ConfigureAwait(false))
            {
                adopted.Kill();
            }

            if (_shim is { } shim)
            {
                await shim.DisposeAsync().ConfigureAwait(false);
            }

            await _backend.RuncAsync("delete", _layout.Name, ["--force"], [], CancellationToken.None).ConfigureAwait(false);
        }

        await UnmountRuntimeMappingsAsync().ConfigureAwait(false);
        await RootFs.UnmountAsync(_layout.Rootfs, CancellationToken.None).ConfigureAwait(false);
        // Staging points of mapped directories (and anything else left): never delete through a mount.
        await MountTable.UnmountAllUnderAsync(_layout.Directory, CancellationToken.None).ConfigureAwait(false);
        await _scratch.RemoveAsync().ConfigureAwait(false);
        RuncBackend.TryDeleteDirectory(_layout.Directory);
        CgroupParents.RemoveEmpty(_layout.CgroupsPath, _backend.Cgroups);
    }
}
