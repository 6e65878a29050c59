// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Virtual machines as QEMU processes driven over QMP: one <c>qemu-system-x86_64</c> per VM, started without a shell,
/// paused (<c>-S</c>), with a runtime directory of its own (QMP socket, console socket and log, OVMF variables, the
/// sockets of a save or restore). A document with <c>RestoreState</c> has its saved-state file opened and checked here,
/// before QEMU starts (see <see cref="QemuSavedState"/>); Start then restores it.
/// A VM whose document sets <c>ComputeTopology.Processor.Limit</c> or <c>.Weight</c> runs in a cgroup of its own
/// (<see cref="QemuCpuControls"/>, <see cref="CpuControls"/>), created before QEMU is spawned and entered before the guest
/// runs; if the host cannot provide it, Create fails naming the member.
/// </summary>
public sealed partial class QemuBackend : IComputeBackend
{
    private readonly QemuSettings _settings;
    /// <summary>How long QEMU may take to exit once its QMP connection reset during Create.</summary>
    private static readonly TimeSpan s_exitAfterResetTimeout = TimeSpan.FromSeconds(10);

    private readonly string _runtimeRoot;
    private readonly Lazy<CgroupHierarchy> _cgroups;

    /// <summary>
    /// Creates the backend; each VM's runtime directory is <c>runtimeRoot/NAME</c> (<see cref="RuntimeDirectoryOf"/>).
    /// The runtime root may be of any length up to what leaves its files within <c>PATH_MAX</c>
    /// (<see cref="MaxRuntimeRootBytes"/>): no socket path in it is ever put in a socket address (docs/qemu-backend.md,
    /// Socket paths). Longer is an <see cref="ArgumentException"/>.
    /// </summary>
    public QemuBackend(QemuSettings settings, string runtimeRoot)
    {
        _settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _runtimeRoot = runtimeRoot ?? throw new ArgumentNullException(nameof(runtimeRoot));
        if (Encoding.UTF8.GetByteCount(runtimeRoot.TrimEnd('/')) > MaxRuntimeRootBytes)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"the runtime root '{runtimeRoot}' is longer than {MaxRuntimeRootBytes} bytes: the paths of its VMs' files would pass PATH_MAX"), nameof(runtimeRoot));
        }

        _ = QemuCpuControls.ParseParent(settings.CgroupParent);
        _cgroups = new(() => CgroupHierarchy.Open(settings.CgroupRoot));
        _launcher = settings.LauncherPath is { } launcher ? LinuxHost.ConfiguredShim(launcher, "QemuSettings.LauncherPath") : LinuxHost.LocateShim();
    }

    private readonly ShimLocation _launcher;

    /// <summary>The backend's settings.</summary>
    internal QemuSettings Settings => _settings;

    /// <summary>
    /// The longest runtime root accepted, in bytes: with a hashed name (26), the longest file name in a runtime
    /// directory (24) and two separators it stays within <c>PATH_MAX</c> (4096 with the NUL).
    /// </summary>
    public const int MaxRuntimeRootBytes = 4095 - 1 - LinuxHost.HashedNameLength - 1 - FileNameReserve;

    /// <summary>Room kept for the longest file name inside a runtime directory (<c>qmp-diagnostics.sock</c>).</summary>
    private const int FileNameReserve = 24;

    /// <summary>
    /// The runtime directory of system <paramref name="id"/>: <c>runtimeRoot/NAME</c>, NAME being
    /// <see cref="LinuxHost.RuntimeName"/> — the id, or <c>h-HASH</c> when <c>runtimeRoot/id/</c> and a 24-byte file
    /// name would pass 107 bytes, or when the id has the shape of a hashed name. The VM's cgroup has the same name.
    /// The 107 bytes were once the limit of the socket paths in the directory; sockets no longer depend on it, but the
    /// rule is kept as it was, because adoption finds a VM's directory by recomputing this name: a changed rule would
    /// lose the VMs an earlier service left running.
    /// </summary>
    public static string RuntimeDirectoryOf(string runtimeRoot, string id) =>
        Path.Combine(runtimeRoot, LinuxHost.RuntimeName(id, i => Encoding.UTF8.GetByteCount(Path.Combine(runtimeRoot, i)) + 1 + FileNameReserve <= QemuOptions.MaxSocketPath));

    /// <summary>Mode of a new runtime directory (before the umask).</summary>
    private const UnixFileMode RuntimeDirectoryMode = PrivateFiles.DirectoryMode; // 0700: the VM's console, logs and sockets

    /// <inheritdoc />
    public string Name => "qemu";

    /// <inheritdoc />
    public bool CanHost(ComputeSystem document) => document?.VirtualMachine is not null;

    /// <inheritdoc />
    public void Validate(ComputeSystem document)
    {
        ArgumentNullException.ThrowIfNull(document);
        _ = QemuCommandLine.Build("validate", document.VirtualMachine!, _settings, "/validate");
    }

    /// <inheritdoc />
    public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        const string Label = "QemuBackend.Create";
        var vm = context.Document.VirtualMachine!;
        var controls = CpuControls.From(vm.ComputeTopology?.Processor);
        var member = $"$.VirtualMachine.ComputeTopology.Processor.{(controls.Limit is not null ? "Limit" : "Weight")}";
        var run = RuntimeDirectoryOf(_runtimeRoot, context.Id);
        // Never clear what is there: a directory of this name is another VM's (or an orphan's, for the cleaner). Claimed
        // first, so the cgroup of the same name is this Create's too.
        LinuxHost.CreateRuntimeDirectory(run, context.Id, RuntimeDirectoryMode, Label);
        Cgroup? cgroup = null;
        try
        {
            cgroup = controls.IsSet ? CreateCgroup(context.Id, controls, member, Label) : null;
            return await CreateInCgroupAsync(context, vm, controls, cgroup, member, run, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            if (cgroup is not null)
            {
                await QemuCpuControls.RemoveAsync(cgroup, context.Time).ConfigureAwait(false);
            }

            Directory.Delete(run, recursive: true); // this Create's own (claimed above)
            throw;
        }
    }

    /// <summary>
    /// Creates the cgroup of system <paramref name="id"/> with <paramref name="controls"/>; when the host has no cpu
    /// hierarchy, fails with <c>ERROR_NOT_SUPPORTED</c> naming <paramref name="member"/>.
    /// </summary>
    internal Cgroup CreateCgroup(string id, CpuControls controls, string member, string operation)
    {
        var hierarchy = CpuHierarchy ?? throw new HcsException(HResults.ERROR_NOT_SUPPORTED, operation, id,
            result: ResultError.From(HResults.ERROR_NOT_SUPPORTED,
                $"{member}: cannot be honoured: no cgroup hierarchy with the cpu controller is mounted (looked in {_settings.CgroupRoot})",
                "qemu.cgroup"));
        return QemuCpuControls.CreateCgroup(hierarchy, _settings.CgroupParent, Path.GetFileName(RuntimeDirectoryOf(_runtimeRoot, id)), controls, member, operation, id);
    }

    /// <summary>The host's cgroups if they have the cpu controller, else null.</summary>
    private CgroupHierarchy? CpuHierarchy => _cgroups.Value is { } hierarchy && hierarchy.HasController("cpu") ? hierarchy : null;

    /// <summary>The existing cgroup of the VM whose runtime directory is <paramref name="run"/>, or null.</summary>
    private Cgroup? ExistingCgroup(string run) =>
        CpuHierarchy is { } hierarchy && QemuCpuControls.CgroupOf(hierarchy, _settings.CgroupParent, Path.GetFileName(run)) is { Exists: true } cgroup ? cgroup : null;

    private async Task<IBackendSystem> CreateInCgroupAsync(BackendSystemContext context, VirtualMachine vm, CpuControls controls, Cgroup? cgroup,
        string member, string run, CancellationToken cancellationToken)
    {
        const string Label = "QemuBackend.Create";
        SavedStateFile? restore = null;
        CallerPaths? opened = null;
        ConsoleLog? console = null;
        try
        {
            if (vm.RestoreState?.SaveStateFilePath is { } saved)
            {
                restore = await QemuSavedState.OpenAsync(saved, vm, context.Id).ConfigureAwait(false);
            }

            // A caller that is not the service: what the document names is opened (sockets bound) with its credentials
            // and QEMU gets descriptors. Held until QEMU has answered over QMP, when it has opened all of them.
            opened = await CallerPaths.OpenAsync(vm).ConfigureAwait(false);

            if (vm.Chipset?.Uefi is not null)
            {
                PrivateFiles.Copy(_settings.OvmfVars, Path.Combine(run, QemuCommandLine.OvmfVars));
            }

            // QEMU must outlive this service (kill -9 of hcsd included) and stay adoptable: no pipe to us, not in our
            // session or process group. hcs-shim launch gives it that and then execs QEMU under the same pid, so QEMU
            // is still our child while we live (we reap it and learn its exit status).
            var launcher = _launcher.Require(Label, context.Id, "qemu");

            PrivateFiles.CreateEmpty(Path.Combine(run, QemuCommandLine.QemuLog));
            console = ConsoleLog.Create(run, _settings.ConsoleLogMaxBytes, context.Id);
            // QEMU runs in its runtime directory: its command line names the sockets it binds there relatively
            // (QemuCommandLine), so no socket address holds the runtime root, however long it is.
            var start = new ProcessStartInfo(launcher) { UseShellExecute = false, WorkingDirectory = run };
            foreach (var arg in (string[])["launch", "--log", Path.Combine(run, QemuCommandLine.QemuLog), .. opened?.LauncherArguments() ?? [], "--", _settings.Binary])
            {
                start.ArgumentList.Add(arg);
            }

            foreach (var arg in QemuCommandLine.Build(context.Id, vm, _settings, run, opened))
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new HcsException(HResults.E_FAIL, Label, context.Id);
            try
            {
                // QEMU is paused (-S): moving it now, with all its threads, means the guest never runs unlimited.
                // (The launcher may not have exec'd yet: it is the same process, so QEMU inherits the cgroup.)
                if (cgroup is not null)
                {
                    QemuCpuControls.AddProcess(cgroup, process.Id, member, Label, context.Id);
                }

                var qmp = await ConnectAsync(process, run, context.Id, cancellationToken).ConfigureAwait(false);
                try
                {
                    await EnableBalloonStatisticsAsync(qmp, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await qmp.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                opened?.Dispose();
                return new QemuSystem(context, this, QemuWorker.Child(process), qmp, run, restore, controls, cgroup, console: console);
            }
            catch (Exception e) when (e is IOException or SocketException or QmpDisconnectedException or QmpProtocolException
                && !cancellationToken.IsCancellationRequested)
            {
                // QEMU listens on QMP early (while parsing its options) and may still refuse the machine afterwards (an
                // image that does not exist, 2^63 MB of memory, …): the connection then resets under us. Its reason is
                // in qemu.log once it has exited.
                var exited = await ExitedDuringStartAsync(process, run, context.Id).ConfigureAwait(false);
                if (!process.HasExited)
                {
                    process.Kill();
                }

                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                process.Dispose();
                throw exited ?? HcsException.Wrap(e, Label, context.Id);
            }
            catch
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                process.Dispose();
                throw;
            }
        }
        catch
        {
            restore?.Dispose();
            if (opened is not null)
            {
                await opened.FailedAsync().ConfigureAwait(false);
            }

            console?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Asks the balloon device to collect the guest's memory statistics every 2 s (the guest's <c>MemAvailable</c> is
    /// the <c>Memory</c> property's <c>AvailableMemory</c>). Best effort: without it that member is omitted.
    /// </summary>
    private static async Task EnableBalloonStatisticsAsync(QmpClient qmp, CancellationToken cancellationToken)
    {
        try
        {
            await qmp.ExecuteAsync("qom-set", new JsonObject
            {
                ["path"] = $"/machine/peripheral/{QemuCommandLine.BalloonId}",
                ["property"] = "guest-stats-polling-interval",
                ["value"] = 2,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpErrorException)
        {
            // An older QEMU without the property: AvailableMemory stays unknown.
        }
    }

    /// <summary>
    /// After the QMP connection failed during Create: waits (bounded) for QEMU to exit and returns
    /// <c>HCS_E_TERMINATED_DURING_START</c> with its own message, or null when it is still running.
    /// </summary>
    private static async Task<HcsException?> ExitedDuringStartAsync(Process process, string run, string id)
    {
        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(s_exitAfterResetTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }

        return await TerminatedDuringStartAsync(process, run, id).ConfigureAwait(false);
    }

    private static async Task<HcsException> TerminatedDuringStartAsync(Process process, string run, string id)
    {
        var text = (await ReadQemuLogAsync(run).ConfigureAwait(false)).Trim();
        return new HcsException(HResults.HCS_E_TERMINATED_DURING_START, "QemuBackend.Create", id,
            result: ResultError.From(HResults.HCS_E_TERMINATED_DURING_START,
                string.Create(CultureInfo.InvariantCulture, $"qemu exited with {process.ExitCode}: {text}"), "qemu"));
    }

    /// <summary>
    /// Connects to QEMU's QMP socket as soon as it accepts. The socket file appears when QEMU binds it, a moment before
    /// it listens, so a refused or missing socket is retried every millisecond until QEMU accepts, exits or 30 s pass.
    /// </summary>
    private static async Task<QmpClient> ConnectAsync(Process process, string run, string id, CancellationToken cancellationToken)
    {
        var socket = Path.Combine(run, QemuCommandLine.QmpSocket);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(socket))
            {
                try
                {
                    return await QmpClient.ConnectAsync(socket, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
                {
                    // Bound, not yet listening.
                }
            }

            if (process.HasExited)
            {
                throw await TerminatedDuringStartAsync(process, run, id).ConfigureAwait(false);
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new HcsException(HResults.HCS_E_CONNECTION_TIMEOUT, "QemuBackend.Create", id);
            }

            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }
}
