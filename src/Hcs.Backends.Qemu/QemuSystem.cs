// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// One running QEMU: the coordinator of its lifecycle (Start, ShutDown, Pause, Resume, Crash, Terminate, the exit
/// watcher, Detach, Dispose) and of its runtime facts, with collaborators for the rest: QMP events become backend
/// events in <see cref="QmpEventMapper"/> (the process ending without a guest SHUTDOWN, e.g. kill -9, is the worker
/// dying with its exit status, reported here; the engine is told of a stop once); the power button and the NMI are
/// repeated by <see cref="RepeatedRequest"/>; Save and a restoring Start are <see cref="QemuSaveRestore"/>; Modify
/// changes the memory size through <see cref="QemuBalloon"/> and hot-adds/removes SCSI attachments through
/// <see cref="ScsiHotPlug"/>.
/// </summary>
internal sealed class QemuSystem : IBackendSystem
{
    private const string MemoryPath = "VirtualMachine/ComputeTopology/Memory/SizeInMB";
    private const string ScsiPrefix = "VirtualMachine/Devices/Scsi/";

    /// <summary>hcsshim's resource path for changing a running VM's processor limits (<c>ProcessorLimits</c>).</summary>
    public const string ProcessorLimitsPath = "VirtualMachine/ComputeTopology/Processor/Limits";

    private readonly BackendSystemContext _context;
    private readonly QemuBackend _backend;
    private readonly QemuWorker _worker;
    private readonly QmpClient _qmp;
    private readonly string _runtimeDirectory;
    private readonly GatedEventSink _sink;
    private readonly CancellationTokenSource _detach = new(); // cancelled by DetachAsync: stops the exit watcher
    private readonly Lock _factsGate = new(); // serialises fact reports, so the engine's latest is the newest
    private volatile bool _started;
    private volatile bool _detached;
    private readonly QemuBalloon _balloon;
    private readonly ScsiHotPlug _scsi;
    private readonly QemuSaveRestore _saveRestore;
    private readonly RepeatedRequest _repeat;
    private readonly QmpEventMapper _mapper;
    private readonly Lock _gate = new();
    private readonly Task _events;
    private readonly Task _exit;
    private readonly CancellationTokenSource _ended = new(); // cancelled once QEMU has exited: ends retry loops
    private readonly bool _waitsForGuestConnection;
    private readonly QemuCpuControls _cpu;
    private bool _released; // guarded by _gate
    private readonly ConsoleLog? _console; // the console log's pump (null for a VM adopted from an older layout)
    private readonly QemuStatistics _statistics;
    private int _terminating;

    /// <summary>
    /// A constructed VM. <paramref name="adopted"/> are the facts of a VM adopted after a service restart (its SCSI
    /// attachments, balloon target, guest connection and whether it was started come from them); null for a new VM.
    /// </summary>
    public QemuSystem(BackendSystemContext context, QemuBackend backend, QemuWorker worker, QmpClient qmp, string runtimeDirectory,
        SavedStateFile? restore, CpuControls controls, Cgroup? cgroup, QemuRuntimeFacts? adopted = null, ConsoleLog? console = null)
    {
        _context = context;
        _console = console;
        _backend = backend;
        _worker = worker;
        _qmp = qmp;
        _runtimeDirectory = runtimeDirectory;
        _sink = new GatedEventSink(context.Events);
        _waitsForGuestConnection = context.Document.VirtualMachine?.GuestConnection is not null;
        var vm = context.Document.VirtualMachine!;
        var memoryMb = QemuCommandLine.MemoryMb(vm);
        _balloon = new QemuBalloon(qmp, memoryMb, adopted is not null ? adopted.BalloonTargetMb ?? memoryMb : restore?.BalloonTargetMb ?? memoryMb);
        _scsi = new ScsiHotPlug(qmp, context.Id, vm, context.Document.SchemaVersion, adopted is null
            ? QemuCommandLine.ScsiSlots(vm)
            : adopted.Scsi.Select(f => new ScsiSlot(f.Bus, f.Lun, f.Driver)));
        _saveRestore = new QemuSaveRestore(qmp, context.Id, runtimeDirectory, context.Time, backend.Settings.ReservedPaths, restore,
            cancellationToken => worker.WaitForExitAsync(qmp.Closed, context.Time, cancellationToken), () => worker.ExitCode, ReportFacts);
        _repeat = new RepeatedRequest(qmp, context.Time, _ended.Token);
        _mapper = new QmpEventMapper(context.Id, vm, runtimeDirectory, _sink, context.Time, adopted?.GuestConnected == true,
            answered: _repeat.Stop, deviceDeleted: _scsi.DeviceDeleted, guestConnectionChanged: ReportFacts);
        if (adopted is not null)
        {
            _started = adopted.Started;
        }

        _cpu = new QemuCpuControls(context.Id, worker.Pid, controls, cgroup, (next, member) => backend.CreateCgroup(context.Id, next, member, "QemuBackend.Modify"), () =>
        {
            lock (_gate)
            {
                return _released;
            }
        });
        _statistics = new QemuStatistics(worker.Pid, context.Time);
        _events = Task.Run(() => _mapper.RunAsync(_qmp.Events));
        _exit = Task.Run(WatchExitAsync);
        ReportFacts();
    }

    /// <summary>
    /// Reports the current <see cref="QemuRuntimeFacts"/> (after Create or adoption, and whenever one of them changes:
    /// Start, the guest connection, a Save beginning or ending, Modify).
    /// </summary>
    private void ReportFacts()
    {
        lock (_factsGate)
        {
            QemuRuntimeFacts facts;
            var cpu = _cpu.Facts; // one snapshot (Modify reports again after it changes)
            lock (_gate)
            {
                facts = new QemuRuntimeFacts
                {
                    Pid = _worker.Pid,
                    StartTime = _worker.StartTime,
                    BootId = HostProcess.BootId(),
                    RuntimeDirectory = _runtimeDirectory,
                    QmpSocket = Path.Combine(_runtimeDirectory, QemuCommandLine.QmpSocket),
                    ConsoleLog = Path.Combine(_runtimeDirectory, QemuCommandLine.ConsoleLog),
                    QemuLog = Path.Combine(_runtimeDirectory, QemuCommandLine.QemuLog),
                    GuestConnectionSocket = _waitsForGuestConnection ? Path.Combine(_runtimeDirectory, QemuCommandLine.GuestConnectionSocket) : null,
                    GuestConnected = _mapper.GuestConnected.IsCompleted,
                    Started = _started,
                    SaveTemporaryFile = _saveRestore.TemporaryFile,
                    BalloonTargetMb = _balloon.TargetMb == _balloon.MemoryMb ? null : _balloon.TargetMb,
                    Scsi = [.. _scsi.Attached.Select(a => new QemuScsiSlotFact(a.Bus, a.Lun, a.Driver)).OrderBy(a => a.Bus, StringComparer.Ordinal).ThenBy(a => a.Lun)],
                    HasCgroup = cpu.HasCgroup,
                    CpuLimit = cpu.Limit,
                    CpuWeight = cpu.Weight,
                };
            }

            _sink.RuntimeFactsChanged(facts.ToJson());
        }
    }

    /// <summary>
    /// Start = <c>cont</c> (QEMU was started paused), or, for a VM created with <c>RestoreState</c>, restore the saved
    /// state and then <c>cont</c>. With <c>GuestConnection</c>, a fresh Start completes only once the guest opens the
    /// guest connection port; if the caller gives up first, the VM is stopped and reset, so the system is back to
    /// Created (not running, not booted) as the engine reports it. A restored guest continues with the connection state
    /// it was saved with, so its Start does not wait.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await _saveRestore.RestoreAsync(cancellationToken).ConfigureAwait(false))
        {
            Started();
            return;
        }

        await ExecuteAsync("cont", cancellationToken).ConfigureAwait(false);
        if (!_waitsForGuestConnection)
        {
            Started();
            return;
        }

        try
        {
            await _mapper.GuestConnected.WaitAsync(cancellationToken).ConfigureAwait(false);
            Started();
        }
        catch (OperationCanceledException)
        {
            try
            {
                await _qmp.ExecuteAsync("stop", cancellationToken: CancellationToken.None).ConfigureAwait(false);
                await _qmp.ExecuteAsync("system_reset", cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QmpDisconnectedException or QmpErrorException)
            {
                // QEMU is gone or going: the stop is reported through the exit watcher.
            }

            _mapper.ResetGuestConnection();
            ReportFacts();
            throw;
        }
    }

    private void Started()
    {
        _started = true;
        ReportFacts();
    }

    /// <summary>
    /// Presses the ACPI power button, and again for up to 55 s (see <see cref="RepeatedRequest"/>): a guest that is still booting
    /// (no ACPI handler yet) would otherwise lose the request. Completion is not the exit (the engine waits for that).
    /// </summary>
    public async Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken)
    {
        if (options?.Mechanism is ShutdownMechanism.GuestConnection)
        {
            throw HcsException.InvalidJson("$.Mechanism", "shutdown through the guest connection needs a guest agent protocol, not supported yet; use IntegrationService (the ACPI power button) or omit Mechanism");
        }

        await ExecuteAsync("system_powerdown", cancellationToken).ConfigureAwait(false);
        _ = _repeat.RepeatAsync("system_powerdown");
    }

    /// <summary>
    /// SIGKILL, then wait until QEMU is gone: reaped, for our child; for an adopted QEMU (killed by pid after its start
    /// time was checked again), its QMP connection ended and <c>/proc/PID</c> gone or a zombie (bounded).
    /// </summary>
    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _terminating, 1);
        _mapper.CloseGuestConnection("the VM was terminated");
        _worker.Kill();
        await _worker.WaitForExitAsync(_qmp.Closed, _context.Time, CancellationToken.None).ConfigureAwait(false);
    }

    public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken) => ExecuteAsync("stop", cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => ExecuteAsync("cont", cancellationToken);

    /// <summary>
    /// Runs a QMP command for a verb. If QMP goes away under it, QEMU is ending: wait (bounded) until its exit has been
    /// seen and reported, so the engine attributes the failure to the stop rather than to a protocol error.
    /// </summary>
    private async Task ExecuteAsync(string command, CancellationToken cancellationToken, System.Text.Json.Nodes.JsonObject? arguments = null)
    {
        try
        {
            await _qmp.ExecuteAsync(command, arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpDisconnectedException)
        {
            await _exit.WaitAsync(TimeSpan.FromSeconds(10), _context.Time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    /// <summary>
    /// Injects an NMI (HCS does the same), repeated for up to 55 s (see <see cref="RepeatedRequest"/>): an NMI that reaches a
    /// guest still booting, or that Linux swallows as a back-to-back NMI, is lost. A Linux guest panics on it when
    /// <c>kernel.unknown_nmi_panic</c> is set; the crash is then reported like any guest panic (its panic text may be
    /// missing from the crash log: printk in NMI context is deferred, and the VM pauses at the pvpanic notification).
    /// </summary>
    public async Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken)
    {
        await ExecuteAsync("inject-nmi", cancellationToken).ConfigureAwait(false);
        _ = _repeat.RepeatAsync("inject-nmi");
    }

    /// <summary>
    /// Saves the paused VM to <c>SaveStateFilePath</c> (<see cref="QemuSaveRestore.SaveAsync"/>), with the balloon
    /// target and the SCSI attachments of now in its header.
    /// </summary>
    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken) =>
        _saveRestore.SaveAsync(options, _balloon.MemoryMb, _balloon.TargetMb,
            QemuCommandLine.Layout(_context.Document.VirtualMachine!, _scsi.Attached), cancellationToken);

    // ---- Modify -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// <c>VirtualMachine/ComputeTopology/Memory/SizeInMB</c> (Update): moves the balloon; the guest gives memory back
    /// (or takes it again) asynchronously, which the <c>Memory</c> property shows. The size must be a whole number of
    /// MB from 1 to the boot size (<c>HCS_E_INVALID_JSON</c> naming <c>$.Settings</c>): the balloon cannot grow a guest
    /// past the memory it booted with.
    /// <c>VirtualMachine/Devices/Scsi/&lt;controller&gt;/Attachments/&lt;lun&gt;</c> (Add, Remove): hot add or remove a
    /// disk or ISO on a controller of the create document.
    /// </summary>
    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.GuestRequest is not null)
        {
            throw HcsException.InvalidJson("$.GuestRequest", "guest requests need a guest agent connection, which the QEMU backend does not have yet");
        }

        var path = request.ResourcePath ?? "";
        if (path == ProcessorLimitsPath)
        {
            _cpu.Modify(request);
            ReportFacts();
            return Task.CompletedTask;
        }

        if (path == MemoryPath)
        {
            return SetMemoryAsync(request, cancellationToken);
        }

        if (path.StartsWith(ScsiPrefix, StringComparison.Ordinal))
        {
            var parts = path[ScsiPrefix.Length..].Split('/');
            if (parts is [var controller, "Attachments", var lun] && controller.Length > 0)
            {
                return ModifyScsiAsync(request, controller, lun, cancellationToken);
            }
        }

        throw HcsException.InvalidJson("$.ResourcePath", $"resource path '{ErrorText.Truncate(path)}' is not supported by the QEMU backend");
    }

    private async Task SetMemoryAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        await _balloon.SetAsync(request, cancellationToken).ConfigureAwait(false);
        ReportFacts();
    }

    private async Task ModifyScsiAsync(ModifySettingRequest request, string controller, string lun, CancellationToken cancellationToken)
    {
        await _scsi.ModifyAsync(request, controller, lun, cancellationToken).ConfigureAwait(false);
        ReportFacts();
    }

    // ---- Properties -------------------------------------------------------------------------------------------------

    public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        var (cpu, rss) = _statistics.Sample();
        var properties = new BackendProperties
        {
            RuntimeOsType = OsType.Linux,
            Processor = new ProcessorStats { TotalRuntime100ns = cpu },
            MemoryStats = new MemoryStats { MemoryUsagePrivateWorkingSetBytes = rss, MemoryUsageCommitBytes = rss },
        };
        return types.Contains(SystemPropertyType.Memory) ? WithMemoryAsync(properties, cancellationToken) : Task.FromResult(properties);
    }

    /// <summary>Adds the <c>Memory</c> property (QMP round trips) to cheap properties.</summary>
    private async Task<BackendProperties> WithMemoryAsync(BackendProperties properties, CancellationToken cancellationToken) =>
        properties with { Memory = await MemoryAsync(cancellationToken).ConfigureAwait(false) };

    /// <summary>The <c>Memory</c> property from QMP (<see cref="QemuBalloon.MemoryAsync"/>); null when QEMU cannot answer.</summary>
    private Task<MemoryInformationForVm?> MemoryAsync(CancellationToken cancellationToken) => _balloon.MemoryAsync(cancellationToken);

    // ---- Events, exit -----------------------------------------------------------------------------------------------

    /// <summary>
    /// Waits for QEMU's end and reports it (unless Terminate caused it, or the system was detached). Our child's end is
    /// its reaping, with the exit status. An adopted QEMU's end is its QMP connection's EOF (never polled with
    /// <c>kill(pid, 0)</c>), then <c>/proc/PID</c> going away; its exit status is unknown. A QMP connection that ends
    /// while the adopted QEMU lives on (it broke the protocol) leaves a VM nobody can drive: it is killed and reported
    /// as a worker death.
    /// </summary>
    private async Task WatchExitAsync()
    {
        try
        {
            await _worker.WaitForExitAsync(_qmp.Closed, _context.Time, _detach.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return; // detached: the VM lives on
        }

        if (_detached)
        {
            return;
        }

        var lostQmp = false;
        if (!_worker.IsChild && !_worker.HasExited)
        {
            lostQmp = true;
            _worker.Kill();
            await new HostProcess(_worker.Pid, _worker.StartTime).WaitForExitAsync(TimeSpan.FromSeconds(10), _context.Time).ConfigureAwait(false);
        }

        await _ended.CancelAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_console is not null)
        {
            // QEMU is gone: the pump reads what it wrote last, reaches EOF and ends (bounded, in case it is stuck).
            await _console.Completion.WaitAsync(TimeSpan.FromSeconds(5), _context.Time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _console.Dispose();
        }
        if (_saveRestore.Restoring is { } restoring)
        {
            // A failed restore makes QEMU exit: let Start fail with QEMU's reason before the engine hears of the stop
            // (otherwise Start would fail with the generic HCS_E_TERMINATED_DURING_START).
            await restoring.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        }

        _mapper.CloseGuestConnection("the VM ended");
        if (Volatile.Read(ref _terminating) == 0)
        {
            // Ignored if a guest power-off or crash was already reported.
            var detail = _worker.ExitCode is { } code
                ? string.Create(CultureInfo.InvariantCulture, $"qemu exited with status {code}")
                : lostQmp
                    ? "the QMP connection to the adopted qemu ended while it kept running; it was killed"
                    : "qemu exited (adopted after a service restart, so its exit status is unknown)";
            if (_mapper.HostShutdownReason is { } reason)
            {
                detail += $" after a SHUTDOWN event ({reason})";
            }

            _sink.Stopped(new BackendExit(BackendExitCause.WorkerDied, _worker.ExitCode is { } status ? unchecked((uint)status) : null, detail));
        }
    }

    /// <summary>
    /// Releases what ties the VM to this service (the QMP connection, the event pump, the exit watcher, the restore
    /// file) without stopping QEMU or touching its runtime directory and cgroup; reports nothing afterwards. A later
    /// <see cref="QemuBackend.AdoptAsync"/> (this or another service instance) finds the VM from its facts. QEMU, if
    /// it is our child, stays our child: .NET still reaps it when it ends.
    /// </summary>
    public async ValueTask DetachAsync()
    {
        if (_detached)
        {
            return;
        }

        _detached = true;
        _sink.Close();
        await _detach.CancelAsync().ConfigureAwait(false);
        _repeat.Stop();
        await _qmp.DisposeAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _exit.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _console?.Dispose(); // the next service instance reads the console from here on
        _saveRestore.Release();
        lock (_gate)
        {
            _released = true;
        }

        _worker.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_detached)
        {
            _ended.Dispose();
            _detach.Dispose();
            return; // the VM was handed over to a later service instance
        }

        await TerminateAsync(CancellationToken.None).ConfigureAwait(false);
        await _qmp.DisposeAsync().ConfigureAwait(false);
        await _exit.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _ended.Dispose();
        _detach.Dispose();
        _worker.Dispose();
        _saveRestore.Release();
        _console?.Dispose();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; an orphaned directory is reported and cleaned by the daemon later.
        }

        lock (_gate)
        {
            _released = true;
        }

        // QEMU has been reaped: its cgroup is empty and can go, with the parent if no other VM is in it.
        await _cpu.ReleaseAsync(_context.Time).ConfigureAwait(false);
    }
}
