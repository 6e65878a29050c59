// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Qemu;

/// <summary>
/// One running QEMU. QMP events become backend events: SHUTDOWN from the guest → power-off, RESET from the guest →
/// reset, GUEST_PANICKED → crash initiated, crash report (the console log) and stop; VNC_CONNECTED, VNC_INITIALIZED
/// and VNC_DISCONNECTED → remote console state changes; VSERPORT_CHANGE with <c>open: false</c> on a
/// <c>Devices.VirtioSerial</c> port (or the <c>GuestConnection</c> port) → guest connection closed; the process ending
/// without a SHUTDOWN (kill -9) → the worker died with its exit status. The engine is told of a stop once.
/// <para>
/// Save is a QEMU migration to a Unix socket we listen on in the runtime directory (never <c>exec:</c>, which runs a
/// shell), streamed into a temporary file next to the target, fsync-ed and renamed into place; Start of a VM with
/// <c>RestoreState</c> is <c>migrate-incoming</c> on a socket QEMU listens on, the file streamed into it, then
/// <c>cont</c>. Modify changes the memory size through the balloon and hot-adds/removes SCSI attachments.
/// </para>
/// </summary>
internal sealed class QemuSystem : IBackendSystem
{
    internal const string SaveSocket = "save.sock";

    /// <summary>How the temporary file of a Save ends (<c>.TARGET.GUID.tmp</c> next to the target).</summary>
    internal const string SaveTemporarySuffix = ".tmp";
    private const string RestoreSocket = "restore.sock";
    private const string MemoryPath = "VirtualMachine/ComputeTopology/Memory/SizeInMB";
    private const string ScsiPrefix = "VirtualMachine/Devices/Scsi/";
    private const long MiB = 1024 * 1024;

    /// <summary>Generous bound for QEMU to act on a hot-unplug or to exit after a failed restore.</summary>
    private static readonly TimeSpan s_deviceTimeout = TimeSpan.FromSeconds(30);

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
    private string? _saveTemporaryFile; // guarded by _gate: the partial file of a Save in progress
    private readonly ulong _memoryMb;
    private readonly Dictionary<string, string> _scsiBuses = new(StringComparer.Ordinal); // controller name → bus id
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _deletions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ScsiSlot> _attached = new(StringComparer.Ordinal); // guarded by _gate: SCSI nodes in use
    private readonly Task _events;
    private readonly Task _exit;
    private readonly CancellationTokenSource _ended = new(); // cancelled once QEMU has exited: ends retry loops
    private readonly bool _waitsForGuestConnection;
    private TaskCompletionSource _guestConnected = NewSignal();
    private CancellationTokenSource? _repeat; // the current repetition of a power-button press or NMI

    /// <summary>Delays between repetitions of a power-button press or an NMI (see <see cref="RepeatAsync"/>).</summary>
    private static readonly int[] s_repeatDelays = [1, 2, 4, 8, 8, 8, 8, 8, 8];
    private SavedStateFile? _restore; // guarded by _gate; consumed by the first Start
    private Task? _restoring;
    private ulong _balloonTargetMb; // guarded by _gate
    private CpuControls _controls; // guarded by _gate
    private CpuCgroup? _cgroup; // guarded by _gate
    private bool _released; // guarded by _gate
    private readonly string? _consoleEndpoint;
    private readonly ConsoleLog? _console; // the console log's pump (null for a VM adopted from an older layout)
    private readonly Dictionary<string, (string Key, VirtioSerialPort Port)> _ports = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_statsLifetime = TimeSpan.FromMilliseconds(10);
    private readonly Lock _statsGate = new();
    private (ulong Cpu, ulong Rss) _stats; // guarded by _statsGate
    private long? _statsAt; // guarded by _statsGate: when _stats was read (TimeProvider timestamp)
    private uint _consoleClients; // only the event pump touches it
    private int _terminating;
    private string? _hostShutdownReason; // the reason of a SHUTDOWN QEMU reported without the guest asking (a signal, quit)

    /// <summary>
    /// A constructed VM. <paramref name="adopted"/> are the facts of a VM adopted after a service restart (its SCSI
    /// attachments, balloon target, guest connection and whether it was started come from them); null for a new VM.
    /// </summary>
    public QemuSystem(BackendSystemContext context, QemuBackend backend, QemuWorker worker, QmpClient qmp, string runtimeDirectory,
        SavedStateFile? restore, CpuControls controls, CpuCgroup? cgroup, QemuRuntimeFacts? adopted = null, ConsoleLog? console = null)
    {
        _context = context;
        _console = console;
        _backend = backend;
        _worker = worker;
        _qmp = qmp;
        _runtimeDirectory = runtimeDirectory;
        _sink = new GatedEventSink(context.Events);
        _waitsForGuestConnection = context.Document.VirtualMachine?.GuestConnection is not null;
        _restore = restore;
        var vm = context.Document.VirtualMachine!;
        _memoryMb = QemuCommandLine.MemoryMb(vm);
        _balloonTargetMb = restore?.BalloonTargetMb ?? _memoryMb;
        var index = 0;
        foreach (var name in (vm.Devices?.Scsi ?? new Dictionary<string, Scsi>()).Keys)
        {
            _scsiBuses[name] = QemuCommandLine.ScsiBus(index++);
        }

        IEnumerable<ScsiSlot> slots = adopted is null
            ? QemuCommandLine.ScsiSlots(vm)
            : adopted.Scsi.Select(f => new ScsiSlot(f.Bus, f.Lun, f.Driver));
        foreach (var slot in slots)
        {
            _attached[QemuCommandLine.ScsiNode(slot.Bus, slot.Lun)] = slot;
        }

        if (adopted is not null)
        {
            _balloonTargetMb = adopted.BalloonTargetMb ?? _memoryMb;
            _started = adopted.Started;
            if (adopted.GuestConnected)
            {
                _guestConnected.TrySetResult();
            }
        }

        _controls = controls;
        _cgroup = cgroup;
        _consoleEndpoint = QemuCommandLine.ConsoleEndpoint(vm, runtimeDirectory);
        foreach (var (key, port) in vm.Devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
        {
            _ports[QemuCommandLine.VirtioSerialPortId(key)] = (key, port);
        }

        _events = Task.Run(PumpEventsAsync);
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
                    GuestConnected = Volatile.Read(ref _guestConnected).Task.IsCompleted,
                    Started = _started,
                    SaveTemporaryFile = _saveTemporaryFile,
                    BalloonTargetMb = _balloonTargetMb == _memoryMb ? null : _balloonTargetMb,
                    Scsi = [.. _attached.Values.Select(a => new QemuScsiSlotFact(a.Bus, a.Lun, a.Driver)).OrderBy(a => a.Bus, StringComparer.Ordinal).ThenBy(a => a.Lun)],
                    HasCgroup = _cgroup is not null,
                    CpuLimit = _cgroup is null ? null : _controls.Limit,
                    CpuWeight = _cgroup is null ? null : _controls.Weight,
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
        SavedStateFile? restore;
        lock (_gate)
        {
            restore = _restore;
            _restore = null;
        }

        if (restore is not null)
        {
            var restoring = RestoreAndContinueAsync(restore, cancellationToken);
            Volatile.Write(ref _restoring, restoring);
            await restoring.ConfigureAwait(false);
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
            await Volatile.Read(ref _guestConnected).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
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

            Volatile.Write(ref _guestConnected, NewSignal());
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
    /// Presses the ACPI power button, and again for up to 55 s (see <see cref="RepeatAsync"/>): a guest that is still booting
    /// (no ACPI handler yet) would otherwise lose the request. Completion is not the exit (the engine waits for that).
    /// </summary>
    public async Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken)
    {
        if (options?.Mechanism is ShutdownMechanism.GuestConnection)
        {
            throw HcsException.InvalidJson("$.Mechanism", "shutdown through the guest connection needs a guest agent protocol, not supported yet; use IntegrationService (the ACPI power button) or omit Mechanism");
        }

        await ExecuteAsync("system_powerdown", cancellationToken).ConfigureAwait(false);
        _ = RepeatAsync("system_powerdown");
    }

    /// <summary>
    /// Repeats <paramref name="command"/> 1, 3, 7 and 15 s after the request, then every 8 s up to 55 s, until QEMU ends
    /// or the guest answers (powers off, resets or panics). A new request replaces the previous repetition.
    /// </summary>
    private async Task RepeatAsync(string command)
    {
        using var repeat = CancellationTokenSource.CreateLinkedTokenSource(_ended.Token);
        var previous = Interlocked.Exchange(ref _repeat, repeat);
        CancelQuietly(previous);
        try
        {
            foreach (var seconds in s_repeatDelays)
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), _context.Time, repeat.Token).ConfigureAwait(false);
                await _qmp.ExecuteAsync(command, cancellationToken: repeat.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or QmpDisconnectedException or QmpErrorException)
        {
            // QEMU ended, the guest answered, or QEMU refused the repeat: nothing left to press.
        }
        finally
        {
            Interlocked.CompareExchange(ref _repeat, null, repeat);
        }
    }

    /// <summary>The guest answered a repeated request (it powered off, reset or panicked): stop repeating.</summary>
    private void StopRepeating() => CancelQuietly(Volatile.Read(ref _repeat));

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That repetition already ended.
        }
    }

    /// <summary>
    /// SIGKILL, then wait until QEMU is gone: reaped, for our child; for an adopted QEMU (killed by pid after its start
    /// time was checked again), its QMP connection ended and <c>/proc/PID</c> gone or a zombie (bounded).
    /// </summary>
    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _terminating, 1);
        CloseGuestConnection("the VM was terminated");
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
    /// Injects an NMI (HCS does the same), repeated for up to 55 s (see <see cref="RepeatAsync"/>): an NMI that reaches a
    /// guest still booting, or that Linux swallows as a back-to-back NMI, is lost. A Linux guest panics on it when
    /// <c>kernel.unknown_nmi_panic</c> is set; the crash is then reported like any guest panic (its panic text may be
    /// missing from the crash log: printk in NMI context is deferred, and the VM pauses at the pvpanic notification).
    /// </summary>
    public async Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken)
    {
        await ExecuteAsync("inject-nmi", cancellationToken).ConfigureAwait(false);
        _ = RepeatAsync("inject-nmi");
    }

    // ---- Save -------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Saves the paused VM to <c>SaveStateFilePath</c> (see <see cref="QemuSavedState"/> for the format). The VM stays
    /// paused. Nothing is left at the target or next to it when the save fails.
    /// </summary>
    public async Task SaveAsync(SaveOptions options, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Save";
        var target = SaveTarget(options);
        var status = (await _qmp.ExecuteAsync("query-status", cancellationToken: cancellationToken).ConfigureAwait(false))
            .GetProperty("status").GetString();
        if (status == "postmigrate")
        {
            // QEMU 7.2: "Can't migrate the vm that was paused due to previous migration".
            throw Failure(HResults.HCS_E_INVALID_STATE, Label,
                "the VM was saved and has not run since; QEMU cannot save it again until it is resumed (and paused again)");
        }

        QemuOptions.NotReserved(target, SaveWhere, _backend.Settings.ReservedPaths);
        var socketPath = Path.Combine(_runtimeDirectory, SaveSocket);
        var name = Path.GetFileName(target);
        var tempName = $".{name}.{Guid.NewGuid():N}{SaveTemporarySuffix}";
        var temp = Path.Combine(Path.GetDirectoryName(target)!, tempName);
        File.Delete(socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        FileStream? file = null;
        SafeFileHandle? directory = null;
        var migrating = false;
        var saved = false;
        try
        {
            // Recorded before the file exists: a service that dies during the save leaves its successor the name to remove.
            lock (_gate)
            {
                _saveTemporaryFile = temp;
            }

            ReportFacts();

            // The directory is opened and the temporary file created with the caller's credentials (HostFiles), then
            // renamed over the target by them: the file belongs to the caller, and nothing it could not replace is.
            (directory, var handle) = await HostFiles.AsCallerAsync(() => CreateSaveFile(target, tempName)).ConfigureAwait(false);
            file = new FileStream(handle, FileAccess.ReadWrite, 1 << 20);

            ulong balloon;
            IReadOnlyList<LayoutEntry> layout;
            lock (_gate)
            {
                balloon = _balloonTargetMb;
                layout = QemuCommandLine.Layout(_context.Document.VirtualMachine!, [.. _attached.Values]);
            }

            var headerLength = QemuSavedState.Header(0, _memoryMb, balloon, layout).Length;
            await file.WriteAsync(new byte[headerLength], cancellationToken).ConfigureAwait(false);

            // The default max-bandwidth (128 MiB/s) makes a save of a 256 MB guest take 0.8 s instead of 0.2 s.
            await _qmp.ExecuteAsync("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 32L << 30 }, cancellationToken).ConfigureAwait(false);
            try
            {
                await _qmp.ExecuteAsync("migrate", new JsonObject { ["uri"] = $"unix:{socketPath}" }, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpErrorException e)
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU refused to save the VM: {e.Description}");
            }

            migrating = true;
            using var stopAccept = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var migration = WaitForMigrationAsync(cancellationToken);
            var accept = listener.AcceptAsync(stopAccept.Token).AsTask();
            if (await Task.WhenAny(accept, migration).ConfigureAwait(false) != accept)
            {
                await stopAccept.CancelAsync().ConfigureAwait(false);
                await ((Task)accept).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw MigrationFailure(await migration.ConfigureAwait(false), Label, "saving");
            }

            long received;
            using (var connection = await accept.ConfigureAwait(false))
            {
                var source = new NetworkStream(connection, ownsSocket: false);
                await using var sourceScope = source.ConfigureAwait(false);
                try
                {
                    received = await CopyAsync(source, file, long.MaxValue, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e) when (!cancellationToken.IsCancellationRequested)
                {
                    // Writing the file failed (or QEMU went away): closing the connection makes QEMU fail the migration.
                    connection.Dispose();
                    await ((Task)migration).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    throw Failure(HResults.E_FAIL, Label, $"writing the saved state to '{temp}' failed: {e.Message}");
                }
            }

            var info = await migration.ConfigureAwait(false);
            migrating = false;
            if (Status(info) != "completed")
            {
                throw MigrationFailure(info, Label, "saving");
            }

            var magic = new byte[QemuSavedState.StreamMagic.Length];
            file.Position = headerLength;
            if (received < magic.Length || await file.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) != magic.Length
                || !magic.AsSpan().SequenceEqual(QemuSavedState.StreamMagic))
            {
                throw Failure(HResults.ERROR_INVALID_DATA, Label, string.Create(CultureInfo.InvariantCulture,
                    $"QEMU reported a completed migration but sent no migration stream ({received} bytes)"));
            }

            file.Position = 0;
            await file.WriteAsync(QemuSavedState.Header((ulong)received, _memoryMb, balloon, layout), cancellationToken).ConfigureAwait(false);
            file.Flush(flushToDisk: true);
            await file.DisposeAsync().ConfigureAwait(false);
            file = null;
            var renamed = directory;
            await HostFiles.AsCallerAsync(() =>
            {
                HostFiles.RenameWithin(renamed, tempName, name, target, SaveWhere);
                return true;
            }).ConfigureAwait(false);
            saved = true;
        }
        catch (OperationCanceledException) when (migrating)
        {
            await CancelMigrationAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (file is not null)
            {
                await file.DisposeAsync().ConfigureAwait(false);
            }

            if (directory is not null)
            {
                if (!saved)
                {
                    var unlinked = directory;
                    _ = await HostFiles.AsCallerAsync(() => HostFiles.UnlinkWithin(unlinked, tempName)).ConfigureAwait(false);
                }

                directory.Dispose();
            }

            TryDelete(socketPath);
            lock (_gate)
            {
                _saveTemporaryFile = null;
            }

            ReportFacts();
        }
    }

    private const string SaveWhere = "$.SaveStateFilePath";

    /// <summary>
    /// With the calling thread's credentials: opens the directory of <paramref name="target"/> and creates
    /// <paramref name="tempName"/> in it (mode 0600, <c>O_EXCL|O_NOFOLLOW</c>). A missing directory or a target that
    /// is a directory is <c>HCS_E_INVALID_JSON</c>; a directory the caller may not write, <c>E_ACCESSDENIED</c>.
    /// </summary>
    private static (SafeFileHandle Directory, SafeFileHandle File) CreateSaveFile(string target, string tempName)
    {
        var parent = Path.GetDirectoryName(target);
        SafeFileHandle directory;
        try
        {
            directory = HostFiles.OpenParent(target, SaveWhere);
        }
        catch (HcsException e) when (e.HResult == HResults.ERROR_PATH_NOT_FOUND)
        {
            throw HcsException.InvalidJson(SaveWhere, $"the directory '{parent}' does not exist");
        }

        try
        {
            if (HostFiles.TypeOf(directory, Path.GetFileName(target)) == HostFileType.Directory)
            {
                throw HcsException.InvalidJson(SaveWhere, $"'{target}' is a directory");
            }

            if (!HostFiles.MayReplace(directory, Path.GetFileName(target)))
            {
                throw HostFiles.Failure(1 /* EPERM */, target, "replace", SaveWhere);
            }

            return (directory, HostFiles.CreateExclusive(directory, tempName, UnixFileMode.UserRead | UnixFileMode.UserWrite, target, SaveWhere));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Checks SaveOptions: ToFile (or no type) to an absolute path (whether its directory exists is checked as the caller).</summary>
    private static string SaveTarget(SaveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SaveType == SaveType.AsTemplate)
        {
            throw HcsException.InvalidJson("$.SaveType", "saving as a template is not supported by the QEMU backend; use ToFile");
        }

        const string Where = "$.SaveStateFilePath";
        if (string.IsNullOrEmpty(options.SaveStateFilePath))
        {
            throw HcsException.InvalidJson(Where, "a saved-state file path is required");
        }

        var target = QemuOptions.CheckedPath(options.SaveStateFilePath, Where);
        if (target.EndsWith('/'))
        {
            throw HcsException.InvalidJson(Where, $"'{ErrorText.Truncate(target)}' names a directory, not a file");
        }

        return target;
    }

    private async Task CancelMigrationAsync()
    {
        try
        {
            await _qmp.ExecuteAsync("migrate_cancel").WaitAsync(s_deviceTimeout, _context.Time).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpErrorException or QmpDisconnectedException or TimeoutException)
        {
            // QEMU is gone or the migration already ended.
        }
    }

    // ---- Restore ----------------------------------------------------------------------------------------------------

    private async Task RestoreAndContinueAsync(SavedStateFile restore, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Start";
        using (restore)
        {
            var socketPath = Path.Combine(_runtimeDirectory, RestoreSocket);
            try
            {
                await _qmp.ExecuteAsync("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socketPath}" }, cancellationToken).ConfigureAwait(false);
                using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    var target = new NetworkStream(socket, ownsSocket: false);
                    await using (target.ConfigureAwait(false))
                    {
                        await CopyAsync(restore.Stream, target, (long)restore.StreamLength, cancellationToken).ConfigureAwait(false);
                    }

                    socket.Shutdown(SocketShutdown.Send);
                }

                var info = await WaitForMigrationAsync(cancellationToken).ConfigureAwait(false);
                if (Status(info) != "completed")
                {
                    throw MigrationFailure(info, Label, $"restoring '{restore.Path}'");
                }
            }
            catch (Exception e) when (e is IOException or SocketException or QmpDisconnectedException && !cancellationToken.IsCancellationRequested)
            {
                // QEMU 7.2 exits (status 1) when it cannot load an incoming stream; its reason is on stderr.
                throw await RestoreFailureAsync(restore.Path, e).ConfigureAwait(false);
            }
            catch (QmpErrorException e)
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU refused to restore '{restore.Path}': {e.Description}");
            }
        }

        await _qmp.ExecuteAsync("cont", cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<Exception> RestoreFailureAsync(string path, Exception cause)
    {
        try
        {
            await _worker.WaitForExitAsync(_qmp.Closed, _context.Time, CancellationToken.None).WaitAsync(s_deviceTimeout, _context.Time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return cause;
        }

        if (_worker.ExitCode != 1)
        {
            return cause; // killed (Terminate, kill -9): the engine reports the stop
        }

        var text = (await QemuBackend.ReadQemuLogAsync(_runtimeDirectory).ConfigureAwait(false)).Trim();
        return Failure(HResults.ERROR_INVALID_DATA, "QemuBackend.Start",
            $"restoring '{path}' failed: QEMU could not load the saved state (does the document describe the saved VM's devices?): {text}");
    }

    // ---- Migration helpers ------------------------------------------------------------------------------------------

    /// <summary>Polls <c>query-migrate</c> until the migration completed, failed or was cancelled.</summary>
    private async Task<JsonElement> WaitForMigrationAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var info = await _qmp.ExecuteAsync("query-migrate", cancellationToken: cancellationToken).ConfigureAwait(false);
            if (Status(info) is "completed" or "failed" or "cancelled")
            {
                return info;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _context.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? Status(JsonElement info) =>
        info.ValueKind == JsonValueKind.Object && info.TryGetProperty("status", out var s) ? s.GetString() : null;

    private HcsException MigrationFailure(JsonElement info, string label, string what)
    {
        var reason = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("error-desc", out var d) ? d.GetString() : null;
        return Failure(HResults.E_FAIL, label, $"{what} failed: QEMU's migration ended '{Status(info)}'{(reason is null ? "" : $": {reason}")}");
    }

    private static async Task<long> CopyAsync(Stream source, Stream target, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[1 << 20];
        long copied = 0;
        while (copied < count)
        {
            var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count - copied)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                if (count == long.MaxValue)
                {
                    break;
                }

                throw new EndOfStreamException("the saved-state file ended early");
            }

            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            copied += read;
        }

        return copied;
    }

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
            ModifyProcessorLimits(request);
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
        if (request.RequestType is not (null or ModifyRequestType.Update))
        {
            throw HcsException.InvalidJson("$.RequestType", $"the memory size can only be updated (RequestType Update), not '{request.RequestType}'");
        }

        if (request.Settings is not { ValueKind: JsonValueKind.Number } settings || !settings.TryGetUInt64(out var mb) || mb == 0)
        {
            throw HcsException.InvalidJson("$.Settings", $"the memory size must be a whole number of MB from 1 to {_memoryMb}, got {request.Settings?.GetRawText() ?? "nothing"}");
        }

        if (mb > _memoryMb)
        {
            throw HcsException.InvalidJson("$.Settings", string.Create(CultureInfo.InvariantCulture,
                $"{mb} MB is more than the VM's boot memory ({_memoryMb} MB); the balloon can give memory back, not add more"));
        }

        await _qmp.ExecuteAsync("balloon", new JsonObject { ["value"] = (long)mb * MiB }, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _balloonTargetMb = mb;
        }

        ReportFacts();
    }

    private async Task ModifyScsiAsync(ModifySettingRequest request, string controller, string lunKey, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Modify";
        if (!_scsiBuses.TryGetValue(controller, out var bus))
        {
            throw HcsException.InvalidJson("$.ResourcePath",
                $"there is no SCSI controller '{ErrorText.Truncate(controller)}' in the create document (VirtualMachine.Devices.Scsi); controllers cannot be hot-added");
        }

        var lun = QemuCommandLine.Lun(lunKey, "$.ResourcePath");
        var node = QemuCommandLine.ScsiNode(bus, lun);
        switch (request.RequestType)
        {
            case ModifyRequestType.Add:
                {
                    var attachment = request.Settings is { } json
                        ? HcsJson.Deserialize<Attachment>(json, "$.Settings", _context.Document.SchemaVersion)
                        : throw HcsException.InvalidJson("$.Settings", "an Attachment is required to add a SCSI attachment");
                    _ = QemuCommandLine.Blockdev(attachment, node, "$.Settings");

                    // A caller that is not the service: the image is opened with its credentials and QEMU opens that
                    // descriptor (/proc/SERVICE/fd/N), held until blockdev-add has returned.
                    using var image = HostFiles.ActsForCaller ? await CallerPaths.OpenImageAsync(attachment, "$.Settings").ConfigureAwait(false) : null;
                    var blockdev = QemuCommandLine.Blockdev(attachment, node, "$.Settings", image is null ? null : CallerPaths.ProcName(image));
                    lock (_gate)
                    {
                        if (!_attached.TryAdd(node, new ScsiSlot(bus, lun, QemuCommandLine.ScsiDriver(attachment))))
                        {
                            throw Failure(HResults.ERROR_ALREADY_EXISTS, Label, $"LUN {lun} of SCSI controller '{ErrorText.Truncate(controller)}' is already in use");
                        }
                    }

                    try
                    {
                        await AddScsiAsync(attachment, blockdev, bus, lun, node, cancellationToken).ConfigureAwait(false);
                        ReportFacts();
                    }
                    catch
                    {
                        lock (_gate)
                        {
                            _attached.Remove(node);
                        }

                        throw;
                    }

                    break;
                }

            case ModifyRequestType.Remove:
                lock (_gate)
                {
                    if (!_attached.ContainsKey(node))
                    {
                        throw Failure(HResults.ERROR_NOT_FOUND, Label, $"nothing is attached at LUN {lun} of SCSI controller '{ErrorText.Truncate(controller)}'");
                    }
                }

                await RemoveScsiAsync(node, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _attached.Remove(node);
                }

                ReportFacts();

                break;
            default:
                throw HcsException.InvalidJson("$.RequestType",
                    $"a SCSI attachment can be added or removed (RequestType Add or Remove), not '{request.RequestType?.ToString() ?? "(none)"}'");
        }
    }

    private async Task AddScsiAsync(Attachment attachment, JsonObject blockdev, string bus, uint lun, string node, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Modify";
        if (!HostFiles.ActsForCaller && !File.Exists(attachment.Path))
        {
            throw Failure(HResults.ERROR_FILE_NOT_FOUND, Label, $"$.Settings.Path: '{attachment.Path}' does not exist");
        }

        try
        {
            await _qmp.ExecuteAsync("blockdev-add", blockdev, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpErrorException e)
        {
            throw Failure(HResults.E_FAIL, Label, $"QEMU could not open '{attachment.Path}': {e.Description}");
        }

        try
        {
            await _qmp.ExecuteAsync("device_add", new JsonObject
            {
                ["driver"] = QemuCommandLine.ScsiDriver(attachment),
                ["id"] = node,
                ["bus"] = $"{bus}.0",
                ["lun"] = lun,
                ["drive"] = node,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpErrorException or OperationCanceledException)
        {
            try
            {
                await _qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = node }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception undo) when (undo is QmpErrorException or QmpDisconnectedException)
            {
                // The device may have been added after all (cancelled wait); Remove cleans up.
            }

            if (e is QmpErrorException qmp)
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU could not attach the disk: {qmp.Description}");
            }

            throw;
        }
    }

    private async Task RemoveScsiAsync(string node, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Modify";
        var deleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _deletions[node] = deleted; // before device_del: DEVICE_DELETED may arrive before its return
        try
        {
            try
            {
                await _qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = node }, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpErrorException e) when (e.ErrorClass != "DeviceNotFound")
            {
                throw Failure(HResults.E_FAIL, Label, $"QEMU could not detach '{node}': {e.Description}");
            }
            catch (QmpErrorException)
            {
                deleted.TrySetResult(); // already gone (a cancelled earlier Remove): only the node is left
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_deviceTimeout);
            try
            {
                await deleted.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure(HResults.ERROR_TIMEOUT, Label, $"QEMU did not report DEVICE_DELETED for '{node}' within {s_deviceTimeout.TotalSeconds:0} s");
            }
        }
        finally
        {
            _deletions.TryRemove(KeyValuePair.Create(node, deleted));
        }

        try
        {
            await _qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = node }, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpErrorException e)
        {
            throw Failure(HResults.E_FAIL, Label, $"QEMU could not release the disk of '{node}': {e.Description}");
        }
    }

    // ---- Properties -------------------------------------------------------------------------------------------------
    /// <summary>
    /// Applies a <c>ProcessorLimits</c> update: members set replace the current Limit/Weight, members omitted are kept.
    /// A VM created without CPU controls gets its cgroup now (QEMU, all threads, is moved into it).
    /// </summary>
    private void ModifyProcessorLimits(ModifySettingRequest request)
    {
        const string Label = "QemuBackend.Modify";
        if (request.RequestType is not (null or ModifyRequestType.Update))
        {
            throw HcsException.InvalidJson("$.RequestType", $"processor limits can only be updated (RequestType Update or omitted), not {request.RequestType}");
        }

        if (request.GuestRequest is not null)
        {
            throw HcsException.InvalidJson("$.GuestRequest", "there is no guest agent to forward a guest request to");
        }

        var limits = request.Settings is { } settings
            ? HcsJson.Deserialize<ProcessorLimits>(settings, "$.Settings")
            : throw HcsException.InvalidJson("$.Settings", "required member 'Settings' (ProcessorLimits) is missing");
        if (limits.Reservation is not null)
        {
            throw HcsException.InvalidJson("$.Settings.Reservation", "CPU reservations are not supported (cgroups cannot reserve CPU time)");
        }

        if (limits.MaximumFrequencyMHz is not null)
        {
            throw HcsException.InvalidJson("$.Settings.MaximumFrequencyMHz", "processor frequency caps are not supported");
        }

        var member = $"$.Settings.{(limits.Limit is not null ? "Limit" : "Weight")}";
        lock (_gate)
        {
            if (_released)
            {
                throw new HcsException(HResults.HCS_E_INVALID_STATE, Label, _context.Id);
            }

            var next = _controls.With(limits);
            if (_cgroup is not null)
            {
                _cgroup.Apply(next, member);
            }
            else if (next.IsSet)
            {
                var cgroup = _backend.CreateCgroup(_context.Id, next, member, Label);
                try
                {
                    cgroup.AddProcess(_worker.Pid, member);
                }
                catch
                {
                    cgroup.TryRemove();
                    throw;
                }

                _cgroup = cgroup;
            }

            _controls = next;
        }

        ReportFacts();
    }


    public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        var (cpu, rss) = Sample();
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

    /// <summary>
    /// CPU time (100 ns units) and resident memory of the QEMU process, from one small synchronous procfs read (no QMP
    /// round trip, no thread-pool hop). procfs counts CPU time in 10 ms ticks (USER_HZ = 100), so a sample younger than
    /// that is reused: a burst of queries reads procfs at most 100 times a second.
    /// </summary>
    private (ulong Cpu, ulong Rss) Sample()
    {
        var now = _context.Time.GetTimestamp();
        lock (_statsGate)
        {
            if (_statsAt is { } at && _context.Time.GetElapsedTime(at, now) < s_statsLifetime)
            {
                return _stats;
            }
        }

        (ulong Cpu, ulong Rss) sample = (0, 0);
        try
        {
            using var handle = File.OpenHandle($"/proc/{_worker.Pid}/stat");
            Span<byte> buffer = stackalloc byte[1024];
            var stat = Encoding.ASCII.GetString(buffer[..RandomAccess.Read(handle, buffer, 0)]);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture);
            sample = (ticks * 100_000, // one tick is 10 ms = 100,000 × 100 ns
                ulong.Parse(fields[21], CultureInfo.InvariantCulture) * (ulong)Environment.SystemPageSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The process is gone: report zeros.
        }

        lock (_statsGate)
        {
            (_stats, _statsAt) = (sample, now);
        }

        return sample;
    }

    /// <summary>
    /// The <c>Memory</c> property from QMP: <c>AssignedMemory</c> = <c>query-balloon</c> <c>actual</c> (what the guest
    /// has now), <c>ReservedMemory</c> = <c>query-memory-size-summary</c> base + plugged memory (the ceiling the balloon
    /// can give back), <c>AvailableMemory</c> = the guest's <c>MemAvailable</c> from the balloon statistics (omitted
    /// until the guest's driver reported), <c>DmOperationInProgress</c> = the balloon has not reached the last size
    /// requested, <c>BalancingEnabled</c> = false (nothing moves the balloon but Modify). All in MB; one NUMA node.
    /// Null when QEMU cannot answer.
    /// </summary>
    private async Task<MemoryInformationForVm?> MemoryAsync(CancellationToken cancellationToken)
    {
        try
        {
            var balloon = await _qmp.ExecuteAsync("query-balloon", cancellationToken: cancellationToken).ConfigureAwait(false);
            var summary = await _qmp.ExecuteAsync("query-memory-size-summary", cancellationToken: cancellationToken).ConfigureAwait(false);
            var stats = await _qmp.ExecuteAsync("qom-get", new JsonObject
            {
                ["path"] = $"/machine/peripheral/{QemuCommandLine.BalloonId}",
                ["property"] = "guest-stats",
            }, cancellationToken).ConfigureAwait(false);
            var actual = balloon.GetProperty("actual").GetUInt64() / MiB;
            var ceiling = (summary.GetProperty("base-memory").GetUInt64()
                + (summary.TryGetProperty("plugged-memory", out var plugged) ? plugged.GetUInt64() : 0)) / MiB;
            int? available = null;
            if (stats.TryGetProperty("last-update", out var updated) && updated.GetInt64() > 0
                && stats.GetProperty("stats").TryGetProperty("stat-available-memory", out var avail) && avail.TryGetInt64(out var bytes) && bytes >= 0)
            {
                available = (int)Math.Min(bytes / MiB, int.MaxValue);
            }

            ulong target;
            lock (_gate)
            {
                target = _balloonTargetMb;
            }

            return new MemoryInformationForVm
            {
                VirtualNodeCount = 1,
                VirtualMachineMemory = new VmMemory
                {
                    AssignedMemory = actual,
                    ReservedMemory = ceiling,
                    AvailableMemory = available,
                    BalancingEnabled = false,
                    DmOperationInProgress = actual != target,
                },
            };
        }
        catch (Exception e) when (e is QmpErrorException or QmpDisconnectedException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }

    // ---- Events, exit -----------------------------------------------------------------------------------------------

    private async Task PumpEventsAsync()
    {
        await foreach (var e in _qmp.Events.ReadAllAsync().ConfigureAwait(false))
        {
            var guest = e.Data is { } data && data.TryGetProperty("guest", out var g) && g.GetBoolean();
            if (e.Name is "SHUTDOWN" or "RESET" or "GUEST_PANICKED")
            {
                StopRepeating();
            }

            switch (e.Name)
            {
                case "SHUTDOWN" when guest:
                    CloseGuestConnection("the guest powered off");
                    _sink.Stopped(new BackendExit(BackendExitCause.GuestPowerOff));
                    break;
                case "SHUTDOWN":
                    Volatile.Write(ref _hostShutdownReason, e.Data is { } sd && sd.TryGetProperty("reason", out var r) ? r.GetString() : "host");
                    break;
                case "RESET" when guest:
                    _sink.GuestReset();
                    break;
                case "VSERPORT_CHANGE" when PortOf(e) is (QemuCommandLine.GuestConnectionPortId, var open):
                    if (open)
                    {
                        Volatile.Read(ref _guestConnected).TrySetResult();
                    }
                    else
                    {
                        CloseGuestConnection("the guest closed the guest connection");
                    }

                    ReportFacts();

                    break;
                case "GUEST_PANICKED":
                    var report = new CrashReport { SystemId = _context.Id };
                    _sink.CrashInitiated(report);
                    var log = await ConsoleTailAsync().ConfigureAwait(false);
                    _sink.CrashReported(report with { CrashLog = log });
                    CloseGuestConnection("the guest crashed");
                    _sink.Stopped(new BackendExit(BackendExitCause.GuestCrash, Detail: log));
                    break;
                case "DEVICE_DELETED" when e.Data is { } d && d.TryGetProperty("device", out var device) && device.GetString() is { } id:
                    if (_deletions.TryGetValue(id, out var deleted))
                    {
                        deleted.TrySetResult();
                    }

                    break;
                case "VNC_CONNECTED":
                    _consoleClients++;
                    RemoteConsole(RemoteConsoleState.Connected, e.Timestamp);
                    break;
                case "VNC_INITIALIZED":
                    RemoteConsole(RemoteConsoleState.Initialized, e.Timestamp);
                    break;
                case "VNC_DISCONNECTED":
                    _consoleClients = _consoleClients > 0 ? _consoleClients - 1 : 0;
                    RemoteConsole(RemoteConsoleState.Disconnected, e.Timestamp);
                    break;
                case "VSERPORT_CHANGE" when e.Data is { } change && change.TryGetProperty("open", out var open) && !open.GetBoolean()
                                            && change.TryGetProperty("id", out var id) && _ports.TryGetValue(id.GetString() ?? "", out var port):
                    _sink.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
                    {
                        Reason = "the guest closed the virtio-serial port",
                        Port = port.Key,
                        Name = port.Port.Name,
                        NamedPipe = port.Port.NamedPipe,
                        Timestamp = e.Timestamp,
                    }));
                    break;
            }
        }
    }

    /// <summary>
    /// Reports SystemGuestConnectionClosed once per connection: when the guest closes the port, or when the VM goes away
    /// with the connection open (before the stop is reported, so SystemExited stays the last event).
    /// </summary>
    private void CloseGuestConnection(string reason)
    {
        var connected = Volatile.Read(ref _guestConnected);
        if (connected.Task.IsCompleted && Interlocked.CompareExchange(ref _guestConnected, NewSignal(), connected) == connected)
        {
            _sink.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
            {
                Reason = reason,
                Name = QemuCommandLine.GuestConnectionPortName,
                NamedPipe = Path.Combine(_runtimeDirectory, QemuCommandLine.GuestConnectionSocket),
                Timestamp = _context.Time.GetUtcNow(),
            }));
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The (device id, open) of a VSERPORT_CHANGE event.</summary>
    private static (string? Id, bool Open) PortOf(QmpEvent e) =>
        e.Data is { } data && data.TryGetProperty("id", out var id) && data.TryGetProperty("open", out var open)
            ? (id.GetString(), open.GetBoolean())
            : (null, false);

    private void RemoteConsole(RemoteConsoleState state, DateTimeOffset? timestamp) =>
        _sink.RemoteConsoleStateChanged(HcsJson.Serialize(new RemoteConsoleStateChange
        {
            Connected = state != RemoteConsoleState.Disconnected,
            State = state,
            Protocol = QemuCommandLine.ConsoleProtocol,
            Endpoint = _consoleEndpoint,
            Clients = _consoleClients,
            Timestamp = timestamp,
        }));

    /// <summary>The console log's last 64 KiB, after giving the guest a moment to finish printing its panic.</summary>
    private async Task<string> ConsoleTailAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), _context.Time).ConfigureAwait(false);
        return await ConsoleLog.ReadTailAsync(_runtimeDirectory).ConfigureAwait(false);
    }

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
        if (Volatile.Read(ref _restoring) is { } restoring)
        {
            // A failed restore makes QEMU exit: let Start fail with QEMU's reason before the engine hears of the stop
            // (otherwise Start would fail with the generic HCS_E_TERMINATED_DURING_START).
            await restoring.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        }

        CloseGuestConnection("the VM ended");
        if (Volatile.Read(ref _terminating) == 0)
        {
            // Ignored if a guest power-off or crash was already reported.
            var detail = _worker.ExitCode is { } code
                ? string.Create(CultureInfo.InvariantCulture, $"qemu exited with status {code}")
                : lostQmp
                    ? "the QMP connection to the adopted qemu ended while it kept running; it was killed"
                    : "qemu exited (adopted after a service restart, so its exit status is unknown)";
            if (Volatile.Read(ref _hostShutdownReason) is { } reason)
            {
                detail += $" after a SHUTDOWN event ({reason})";
            }

            _sink.Stopped(new BackendExit(BackendExitCause.WorkerDied, _worker.ExitCode is { } status ? unchecked((uint)status) : null, detail));
        }
    }

    private HcsException Failure(int hr, string label, string message) =>
        new(hr, label, _context.Id, result: ResultError.From(hr, message, "qemu"));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort.
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
        StopRepeating();
        await _qmp.DisposeAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _exit.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _console?.Dispose(); // the next service instance reads the console from here on
        lock (_gate)
        {
            _restore?.Dispose();
            _restore = null;
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
        lock (_gate)
        {
            _restore?.Dispose();
            _restore = null;
        }

        _console?.Dispose();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; an orphaned directory is reported and cleaned by the daemon later.
        }

        CpuCgroup? cgroup;
        lock (_gate)
        {
            _released = true;
            cgroup = _cgroup;
            _cgroup = null;
        }

        // QEMU has been reaped: its cgroup is empty and can go, with the parent if no other VM is in it.
        if (cgroup is not null)
        {
            await cgroup.RemoveAsync(_context.Time).ConfigureAwait(false);
        }
    }
}
