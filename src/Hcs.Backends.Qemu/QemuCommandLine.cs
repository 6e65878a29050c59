// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Turns a <c>VirtualMachine</c> document into a QEMU argv (no shell). Every member is either mapped or refused by
/// name with <c>HCS_E_INVALID_JSON</c>; nothing is silently ignored (<c>ComputeTopology.Processor.Limit</c> and
/// <c>.Weight</c> are not argv: the backend honours them with a cgroup, <see cref="QemuCpuControls"/>). The VM starts paused (<c>-S</c>: Start is
/// <c>cont</c>), stays alive after guest power-off or panic (<c>-no-shutdown</c>, <c>-action panic=pause</c>) so its final
/// state can be observed, and its serial console always goes through a socket chardev with a log file. Every VM has a
/// <c>virtio-balloon-pci</c> device (<see cref="BalloonId"/>) so its memory size can be changed while it runs; a VM
/// with <c>RestoreState</c> waits for its saved state (<c>-incoming defer</c>) instead of booting. SCSI disks are
/// <c>-blockdev</c> nodes (JSON syntax, so paths need no escaping) named <c>scsiC-LUN</c>, with a device of the same id,
/// exactly as a hot add (<c>blockdev-add</c> + <c>device_add</c>) names them, so either kind can be hot-removed.
/// <para>
/// QEMU runs in its runtime directory (its working directory: <see cref="QemuBackend"/> starts it there), and the
/// sockets QEMU binds in that directory are named relative to it (<c>-qmp unix:qmp.sock</c>, <c>console.sock</c>,
/// <c>gcs.sock</c>, <c>qmp-diagnostics.sock</c>, <c>vnc.sock</c>): a Unix socket address holds at most 107 bytes, and
/// these names fit whatever the length of the runtime root. Files are named absolutely (<c>-pidfile</c>, logs, OVMF
/// variables), which has no such limit. See docs/qemu-backend.md (Socket paths).
/// </para>
/// </summary>
public static class QemuCommandLine
{
    /// <summary>Files the VM uses inside its runtime directory.</summary>
    public const string QmpSocket = "qmp.sock";

    /// <summary>The console socket (live attach).</summary>
    public const string ConsoleSocket = "console.sock";

    /// <summary>The console log, written by hcs from QEMU's log FIFO and bounded (crash logs are read from its tail).</summary>
    public const string ConsoleLog = "console.log";

    /// <summary>The per-VM copy of the OVMF variable store.</summary>
    public const string OvmfVars = "OVMF_VARS.fd";

    /// <summary>QEMU's pid file (written by QEMU itself once it runs).</summary>
    public const string PidFile = "qemu.pid";

    /// <summary>QEMU's stdout and stderr, in the runtime directory (QEMU's stdin is <c>/dev/null</c>).</summary>
    public const string QemuLog = "qemu.log";

    /// <summary>The host end of the guest connection's virtio-serial port (<c>VirtualMachine.GuestConnection</c>).</summary>
    public const string GuestConnectionSocket = "gcs.sock";

    /// <summary>The name the guest sees the guest connection port under (<c>/dev/virtio-ports/org.hcs.gcs</c>).</summary>
    public const string GuestConnectionPortName = "org.hcs.gcs";

    /// <summary>The QEMU device id of the guest connection port (the <c>id</c> in its <c>VSERPORT_CHANGE</c> events).</summary>
    public const string GuestConnectionPortId = "gcsport";

    /// <summary>The second QMP monitor, present when <see cref="QemuSettings.DiagnosticsMonitor"/> is set.</summary>
    public const string DiagnosticsSocket = "qmp-diagnostics.sock";

    /// <summary>The id of the balloon device every VM has.</summary>
    public const string BalloonId = "balloon0";

    /// <summary>The highest LUN a virtio-scsi controller accepts (QEMU's <c>VIRTIO_SCSI_MAX_LUN</c>).</summary>
    public const uint MaxLun = 16383;
    /// <summary>
    /// The remote console's default endpoint: a VNC server on this Unix socket, when <c>Devices.VideoMonitor</c> or
    /// <c>Devices.EnhancedModeVideo</c> is set and its <c>ConnectionOptions.NamedPipe</c> does not say otherwise.
    /// </summary>
    public const string VncSocket = "vnc.sock";

    /// <summary>The remote console protocol.</summary>
    public const string ConsoleProtocol = "vnc";

    /// <summary>Smallest and largest resolution accepted in <c>Devices.VideoMonitor</c>.</summary>
    public const int MinHorizontalResolution = 640, MinVerticalResolution = 480, MaxResolution = 8192;

    private const string Vm = "$.VirtualMachine";

    /// <summary>Builds the argv (without the binary) for system <paramref name="id"/> whose runtime directory is <paramref name="runtimeDirectory"/>.</summary>
    public static IReadOnlyList<string> Build(string id, VirtualMachine vm, QemuSettings settings, string runtimeDirectory) =>
        Build(id, vm, settings, runtimeDirectory, null);

    /// <summary>
    /// Builds the argv; the host paths <paramref name="opened"/> holds (a caller that is not the service) are given to
    /// QEMU as descriptors instead of names.
    /// </summary>
    internal static IReadOnlyList<string> Build(string id, VirtualMachine vm, QemuSettings settings, string runtimeDirectory, CallerPaths? opened)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(settings);
        RefuseUnsupported(vm);
        var run = QemuOptions.Path(runtimeDirectory, "runtime directory");
        var args = new List<string>
        {
            "-name", $"guest={QemuOptions.Escape(id, "id")},debug-threads=on",
            "-accel", settings.Accelerator,
            "-M", "q35",
            "-nodefaults", "-no-user-config", "-display", "none",
            "-S", "-no-shutdown", "-action", "panic=pause",
            "-qmp", QmpOption,
            "-pidfile", $"{run}/{PidFile}",
            "-chardev", $"socket,id=console,path={ConsoleSocket},server=on,wait=off,logfile={run}/{Hcs.Backends.Qemu.ConsoleLog.Fifo},logappend=on",
            "-serial", "chardev:console",
        };

        if (settings.DiagnosticsMonitor)
        {
            args.AddRange(["-qmp", $"unix:{DiagnosticsSocket},server=on,wait=off"]);
        }

        Topology(vm.ComputeTopology, args);
        Chipset(vm.Chipset, settings, run, args, opened);
        Devices(vm.Devices, args, settings, opened);
        GuestConnection(vm.GuestConnection, vm.Devices?.VirtioSerial?.Ports is { Count: > 0 }, args);
        RemoteConsole(vm.Devices, args, settings);
        args.AddRange(["-device", $"virtio-balloon-pci,id={BalloonId}"]);
        if (vm.RestoreState is { } restore)
        {
            if (restore.TemplateSystemId is not null)
            {
                throw HcsException.InvalidJson($"{Vm}.RestoreState.TemplateSystemId", "cloning from a template is not supported; restore from SaveStateFilePath");
            }

            QemuOptions.CheckedPath(restore.SaveStateFilePath, $"{Vm}.RestoreState.SaveStateFilePath");
            args.AddRange(["-incoming", "defer"]);
        }

        return args;
    }

    /// <summary>The <c>-qmp</c> value of every VM: QMP on <see cref="QmpSocket"/> in QEMU's working directory, its runtime directory.</summary>
    internal const string QmpOption = $"unix:{QmpSocket},server=on,wait=off";

    /// <summary>
    /// True if <paramref name="commandLine"/> is the argv of the QEMU of runtime directory <paramref name="runtimeDirectory"/>
    /// (adoption and orphan cleaning read it from <c>/proc/PID/cmdline</c>): <see cref="QmpOption"/> with a
    /// <c>-pidfile</c> in that directory, or, for a QEMU an earlier hcs started (it named its sockets absolutely),
    /// <c>-qmp unix:RUNDIR/qmp.sock,…</c>.
    /// </summary>
    internal static bool IsQemuOf(IReadOnlyList<string> commandLine, string runtimeDirectory)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var run = QemuOptions.Escape(runtimeDirectory, "runtime directory");
        var earlier = $"unix:{run}/{QmpSocket},server=on,wait=off";
        bool relativeQmp = false, pidFile = false;
        for (var i = 0; i + 1 < commandLine.Count; i++)
        {
            switch (commandLine[i])
            {
                case "-qmp" when commandLine[i + 1] == earlier:
                    return true;
                case "-qmp" when commandLine[i + 1] == QmpOption:
                    relativeQmp = true;
                    break;
                case "-pidfile" when commandLine[i + 1] == $"{run}/{PidFile}":
                    pidFile = true;
                    break;
            }
        }

        return relativeQmp && pidFile;
    }

    /// <summary>
    /// How QEMU is told, at run time (a migration URI), of socket <paramref name="name"/> of runtime directory
    /// <paramref name="runtimeDirectory"/>: the absolute path when it fits in a socket address (every QEMU resolves it
    /// alike: one an earlier hcs started runs in the service's working directory, and its runtime root was always short
    /// enough, since that hcs refused longer ones), else the name alone, relative to QEMU's working directory, which is
    /// its runtime directory for every QEMU started since.
    /// </summary>
    internal static string RuntimeSocket(string runtimeDirectory, string name)
    {
        var path = System.IO.Path.Combine(runtimeDirectory, name);
        return System.Text.Encoding.UTF8.GetByteCount(path) <= QemuOptions.MaxSocketPath ? path : name;
    }

    /// <summary>The id of the <paramref name="index"/>th SCSI controller of the document (in document order).</summary>
    internal static string ScsiBus(int index) => string.Create(CultureInfo.InvariantCulture, $"scsi{index}");

    /// <summary>The block node name and device id of the attachment at <paramref name="lun"/> of controller <paramref name="bus"/>.</summary>
    internal static string ScsiNode(string bus, uint lun) => string.Create(CultureInfo.InvariantCulture, $"{bus}-{lun}");

    /// <summary>Parses a LUN key (a canonical decimal number up to <see cref="MaxLun"/>).</summary>
    internal static uint Lun(string key, string jsonPath) =>
        uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var lun) && lun <= MaxLun
            && lun.ToString(CultureInfo.InvariantCulture) == key
            ? lun
            : throw HcsException.InvalidJson(jsonPath, $"'{ErrorText.Truncate(key)}' is not a LUN (a decimal number from 0 to {MaxLun})");

    /// <summary>
    /// Checks an attachment (create document or hot add) and returns its <c>blockdev-add</c> arguments: a format node
    /// named <paramref name="node"/> over a file node, both read-only when the attachment is.
    /// </summary>
    /// <paramref name="fileName"/>, when given, is the name QEMU opens instead of the attachment's path (a descriptor
    /// opened as the caller, <see cref="CallerPaths"/>); a qcow2 image then never opens a backing file.
    internal static JsonObject Blockdev(Attachment attachment, string node, string jsonPath, string? fileName = null)
    {
        OnlyMembers(attachment, jsonPath, "Type", "Path", "ReadOnly");
        var file = QemuOptions.CheckedPath(attachment.Path, $"{jsonPath}.Path");
        var (format, readOnly) = attachment.Type switch
        {
            AttachmentType.VirtualDisk => (DiskFormat(file), attachment.ReadOnly == true),
            AttachmentType.Iso => ("raw", true),
            null => throw HcsException.InvalidJson($"{jsonPath}.Type", "an attachment type is required: VirtualDisk or Iso"),
            _ => throw HcsException.InvalidJson($"{jsonPath}.Type", $"attachment type '{attachment.Type}' is not supported; use VirtualDisk or Iso"),
        };
        var blockdev = new JsonObject
        {
            ["driver"] = format,
            ["node-name"] = node,
            ["read-only"] = readOnly,
            ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = fileName ?? file, ["read-only"] = readOnly },
        };
        if (fileName is not null && format == "qcow2")
        {
            blockdev["backing"] = null;
        }

        return blockdev;
    }

    /// <summary>The SCSI device model of an attachment checked by <see cref="Blockdev"/>.</summary>
    internal static string ScsiDriver(Attachment attachment) => attachment.Type == AttachmentType.Iso ? "scsi-cd" : "scsi-hd";

    /// <summary>The SCSI attachments of the create document, by controller bus and LUN.</summary>
    internal static IEnumerable<ScsiSlot> ScsiSlots(VirtualMachine vm)
    {
        var index = 0;
        foreach (var scsi in (vm.Devices?.Scsi ?? new Dictionary<string, Scsi>()).Values)
        {
            var bus = ScsiBus(index++);
            foreach (var (lun, attachment) in scsi.Attachments ?? new Dictionary<string, Attachment>())
            {
                yield return new ScsiSlot(bus, uint.Parse(lun, CultureInfo.InvariantCulture), ScsiDriver(attachment));
            }
        }
    }

    /// <summary>
    /// The VM's device layout: what QEMU's migration stream depends on besides the memory size (processors, firmware,
    /// serial ports, SCSI controllers and which device sits on which LUN, pvpanic), and nothing it does not (file paths,
    /// read-only flags). A restore compares it with the saved VM's, because QEMU 7.2 refuses a stream with a device the
    /// document lacks but silently accepts a document with an extra device. Each entry carries the JSON path a mismatch
    /// is reported at. <paramref name="scsi"/> is what is attached now (hot adds and removes included).
    /// </summary>
    internal static IReadOnlyList<LayoutEntry> Layout(VirtualMachine vm, IEnumerable<ScsiSlot> scsi)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var devices = vm.Devices;
        var controllers = devices?.Scsi?.Count ?? 0;
        var slots = scsi.ToLookup(s => s.Bus);
        var buses = Enumerable.Range(0, controllers).Select(i =>
        {
            var bus = ScsiBus(i);
            return $"{bus}[{string.Join(' ', slots[bus].OrderBy(s => s.Lun).Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Lun}:{s.Driver}")))}]";
        });
        return
        [
            new("processors", (vm.ComputeTopology?.Processor?.Count ?? 1).ToString(CultureInfo.InvariantCulture), $"{Vm}.ComputeTopology.Processor.Count"),
            new("firmware", vm.Chipset?.Uefi is not null ? "uefi" : "linux-kernel-direct", $"{Vm}.Chipset"),
            new("com-ports", string.Join(' ', (devices?.ComPorts?.Keys ?? []).Order(StringComparer.Ordinal)), $"{Vm}.Devices.ComPorts"),
            new("virtio-serial", string.Join(' ', (devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
                .OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value.Name}")), $"{Vm}.Devices.VirtioSerial"),
            new("scsi", string.Join(' ', buses), $"{Vm}.Devices.Scsi"),
            new("crash-reporting", devices?.GuestCrashReporting is null ? "none" : "pvpanic", $"{Vm}.Devices.GuestCrashReporting"),
        ];
    }

    /// <summary>The VM's boot memory size in MB (1024 when the document gives none).</summary>
    public static ulong MemoryMb(VirtualMachine vm) => vm?.ComputeTopology?.Memory?.SizeInMB ?? DefaultMemoryMb;

    private const ulong DefaultMemoryMb = 1024;

    /// <summary>
    /// Where the remote console of <paramref name="vm"/> listens (a Unix socket path), or null when it has none:
    /// <c>ConnectionOptions.NamedPipe</c> of <c>VideoMonitor</c> (else of <c>EnhancedModeVideo</c>), else
    /// <c>runtimeDirectory/vnc.sock</c>. The document must have passed <see cref="Build(string, VirtualMachine, QemuSettings, string)"/>.
    /// </summary>
    public static string? ConsoleEndpoint(VirtualMachine vm, string runtimeDirectory)
    {
        ArgumentNullException.ThrowIfNull(vm);
        var devices = vm.Devices;
        if (devices?.VideoMonitor is null && devices?.EnhancedModeVideo is null)
        {
            return null;
        }

        return ConsoleNamedPipe(devices.VideoMonitor?.ConnectionOptions, $"{Vm}.Devices.VideoMonitor.ConnectionOptions")
            ?? ConsoleNamedPipe(devices.EnhancedModeVideo?.ConnectionOptions, $"{Vm}.Devices.EnhancedModeVideo.ConnectionOptions")
            ?? System.IO.Path.Combine(runtimeDirectory, VncSocket);
    }

    /// <summary>The QEMU device id of virtio-serial port <paramref name="key"/> (QMP <c>VSERPORT_CHANGE</c> names it).</summary>
    public static string VirtioSerialPortId(string key) => $"vportdev{key}";

    /// <summary>
    /// The remote console: a VGA adapter (its EDID offers <c>VideoMonitor</c>'s resolution as the preferred mode) and
    /// a VNC server on a Unix socket; <c>Keyboard</c> and <c>Mouse</c> add virtio input devices (an absolute tablet
    /// for the mouse, so the pointer follows the VNC client's). The PS/2 controller of the q35 board is always there.
    /// </summary>
    private static void RemoteConsole(Devices? devices, List<string> args, QemuSettings settings)
    {
        const string Path = Vm + ".Devices";
        if (devices?.VideoMonitor is not null || devices?.EnhancedModeVideo is not null)
        {
            var vga = "VGA";
            if (devices.VideoMonitor is { } monitor && (monitor.HorizontalResolution is not null || monitor.VerticalResolution is not null))
            {
                var x = Resolution(monitor.HorizontalResolution, $"{Path}.VideoMonitor.HorizontalResolution", MinHorizontalResolution,
                    $"{Path}.VideoMonitor.VerticalResolution");
                var y = Resolution(monitor.VerticalResolution, $"{Path}.VideoMonitor.VerticalResolution", MinVerticalResolution,
                    $"{Path}.VideoMonitor.HorizontalResolution");

                // 32 bits per pixel; QEMU's VGA rounds video memory to a power of two and needs at least its default 16 MiB.
                var mb = Math.Max(16L, (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)((x * y * 4L + (1 << 20) - 1) >> 20)));
                vga = string.Create(CultureInfo.InvariantCulture, $"VGA,xres={x},yres={y},vgamem_mb={mb}");
            }

            var endpoint = ConsoleNamedPipe(devices.VideoMonitor?.ConnectionOptions, $"{Path}.VideoMonitor.ConnectionOptions");
            var enhanced = ConsoleNamedPipe(devices.EnhancedModeVideo?.ConnectionOptions, $"{Path}.EnhancedModeVideo.ConnectionOptions");
            if (endpoint is not null && enhanced is not null)
            {
                throw HcsException.InvalidJson($"{Path}.EnhancedModeVideo.ConnectionOptions.NamedPipe",
                    "there is one remote console; give its endpoint once, in VideoMonitor.ConnectionOptions");
            }

            args.AddRange(["-device", vga]);
            var socket = endpoint ?? enhanced;
            if (socket is not null)
            {
                QemuOptions.NotReserved(socket, $"{Path}.{(endpoint is not null ? "VideoMonitor" : "EnhancedModeVideo")}.ConnectionOptions.NamedPipe",
                    settings.ReservedPaths);
            }

            // The default socket is named relative to QEMU's working directory (its runtime directory); QEMU 7.2's VNC
            // server cannot take a descriptor, so this is how it binds in a runtime directory of any length.
            args.AddRange(["-vnc", $"unix:{(socket is null ? VncSocket : QemuOptions.Escape(socket, $"{Path}.VideoMonitor.ConnectionOptions.NamedPipe"))}"]);
        }

        if (devices?.Keyboard is not null)
        {
            args.AddRange(["-device", "virtio-keyboard-pci"]);
        }

        if (devices?.Mouse is not null)
        {
            args.AddRange(["-device", "virtio-tablet-pci"]);
        }
    }

    private static int Resolution(ushort? value, string path, int min, string other)
    {
        if (value is not { } v)
        {
            throw HcsException.InvalidJson(path, $"give both resolutions or neither ({other} is set)");
        }

        return v >= min && v <= MaxResolution
            ? v
            : throw HcsException.InvalidJson(path, string.Create(CultureInfo.InvariantCulture, $"{v} is outside {min}–{MaxResolution}"));
    }

    /// <summary>
    /// <c>ConnectionOptions</c> (schema <c>RdpConnectionOptions</c>) of the remote console: <c>NamedPipe</c> is the
    /// Unix socket the VNC server listens on (checked, not escaped); <c>AccessSids</c> and every other member are refused.
    /// </summary>
    private static string? ConsoleNamedPipe(JsonElement? options, string path)
    {
        if (options is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw HcsException.InvalidJson(path, "connection options must be an object");
        }

        string? pipe = null;
        foreach (var member in element.EnumerateObject())
        {
            switch (member.Name)
            {
                case "NamedPipe" when member.Value.ValueKind == JsonValueKind.String:
                    pipe = member.Value.GetString();
                    QemuOptions.SocketPath(pipe, $"{path}.NamedPipe");
                    break;
                case "NamedPipe":
                    throw HcsException.InvalidJson($"{path}.NamedPipe", "the console endpoint must be a string (a Unix socket path)");
                case "AccessSids":
                    throw HcsException.InvalidJson($"{path}.AccessSids", "Windows SIDs do not apply; access to the console is the Unix socket's file permissions");
                default:
                    throw HcsException.InvalidJson($"{path}.{member.Name}", "this member is not supported by the QEMU backend");
            }
        }

        return pipe;
    }

    private static void Topology(Topology? topology, List<string> args)
    {
        var memory = topology?.Memory;
        var mb = memory?.SizeInMB ?? DefaultMemoryMb;
        args.Add("-m");
        args.Add(mb.ToString(CultureInfo.InvariantCulture));
        switch (memory?.Backing)
        {
            case MemoryBackingType.Physical when memory.AllowOvercommit == true:
                throw HcsException.InvalidJson($"{Vm}.ComputeTopology.Memory.AllowOvercommit", "Physical (preallocated) memory cannot be overcommitted");
            case MemoryBackingType.Physical:
                args.Add("-mem-prealloc");
                break;
            case MemoryBackingType.Hybrid:
                throw HcsException.InvalidJson($"{Vm}.ComputeTopology.Memory.Backing", "Hybrid backing is not supported on Linux; use Physical or Virtual");
        }

        args.Add("-smp");
        args.Add((topology?.Processor?.Count ?? 1).ToString(CultureInfo.InvariantCulture));
    }

    private static void Chipset(Chipset? chipset, QemuSettings settings, string run, List<string> args, CallerPaths? opened)
    {
        const string Path = Vm + ".Chipset";
        if (chipset?.Uefi is { } uefi)
        {
            if (chipset.LinuxKernelDirect is not null)
            {
                throw HcsException.InvalidJson($"{Path}.LinuxKernelDirect", "Uefi and LinuxKernelDirect are mutually exclusive");
            }

            if (uefi.BootThis is not null)
            {
                throw HcsException.InvalidJson($"{Path}.Uefi.BootThis", "UEFI boot entries are not supported yet; the firmware boots the first bootable disk");
            }

            if (uefi.Console is SerialConsole.ComPort2 or SerialConsole.Disabled)
            {
                // OVMF always writes to the first serial port, which is the captured console (crash logs come from it).
                throw HcsException.InvalidJson($"{Path}.Uefi.Console",
                    $"'{uefi.Console}' cannot be honoured: the firmware console is always ComPort1 (the captured serial console)");
            }

            args.AddRange(["-drive", $"if=pflash,format=raw,unit=0,readonly=on,file={QemuOptions.Path(settings.OvmfCode, "OVMF code")}"]);
            args.AddRange(["-drive", $"if=pflash,format=raw,unit=1,file={run}/{OvmfVars}"]);
        }
        else if (chipset?.LinuxKernelDirect is { } direct)
        {
            var kernel = QemuOptions.PlainPath(direct.KernelFilePath, $"{Path}.LinuxKernelDirect.KernelFilePath");
            args.AddRange(["-kernel", opened?.FileName($"{Path}.LinuxKernelDirect.KernelFilePath") ?? kernel]);
            if (direct.InitRdPath is not null)
            {
                var initrd = QemuOptions.PlainPath(direct.InitRdPath, $"{Path}.LinuxKernelDirect.InitRdPath");
                args.AddRange(["-initrd", opened?.FileName($"{Path}.LinuxKernelDirect.InitRdPath") ?? initrd]);
            }

            if (direct.KernelCmdLine is not null)
            {
                // -append is its own argument (not an option string): only control characters are refused.
                QemuOptions.Escape(direct.KernelCmdLine, $"{Path}.LinuxKernelDirect.KernelCmdLine");
                args.AddRange(["-append", direct.KernelCmdLine]);
            }
        }
        else
        {
            throw HcsException.InvalidJson(Path, "a boot method is required: Uefi or LinuxKernelDirect");
        }
    }

    private static void Devices(Devices? devices, List<string> args, QemuSettings settings, CallerPaths? opened)
    {
        if (devices is null)
        {
            return;
        }

        const string Path = Vm + ".Devices";
        foreach (var (key, port) in devices.ComPorts ?? new Dictionary<string, ComPort>())
        {
            var where = $"{Path}.ComPorts.{ErrorText.Truncate(key)}";
            if (key == "0")
            {
                throw HcsException.InvalidJson(where, "COM1 is the captured serial console; use ComPorts.1 for another port");
            }

            var id = $"com{key}";
            args.AddRange(["-chardev", $"socket,id={id},{SocketEndpoint(port.NamedPipe, $"{where}.NamedPipe", settings, opened)},server=on,wait=off"]);
            args.AddRange(["-serial", $"chardev:{id}"]);
        }

        if (devices.VirtioSerial?.Ports is { Count: > 0 } ports)
        {
            args.AddRange(["-device", "virtio-serial-pci,id=vser0"]);
            foreach (var (key, port) in ports)
            {
                var where = $"{Path}.VirtioSerial.Ports.{ErrorText.Truncate(key)}";
                var name = QemuOptions.Escape(port.Name ?? throw HcsException.InvalidJson($"{where}.Name", "a port name is required"), $"{where}.Name");
                if (port.Name == GuestConnectionPortName)
                {
                    throw HcsException.InvalidJson($"{where}.Name", $"'{GuestConnectionPortName}' is reserved for the guest connection (VirtualMachine.GuestConnection)");
                }

                args.AddRange(["-chardev", $"socket,id=vport{key},{SocketEndpoint(port.NamedPipe, $"{where}.NamedPipe", settings, opened)},server=on,wait=off"]);
                args.AddRange(["-device", $"virtserialport,bus=vser0.0,chardev=vport{key},id=vportdev{key},name={name}"]);
            }
        }

        var controller = 0;
        foreach (var (name, scsi) in devices.Scsi ?? new Dictionary<string, Scsi>())
        {
            var bus = ScsiBus(controller++);
            args.AddRange(["-device", $"virtio-scsi-pci,id={bus}"]);
            foreach (var (key, attachment) in scsi.Attachments ?? new Dictionary<string, Attachment>())
            {
                var where = $"{Path}.Scsi.{ErrorText.Truncate(name)}.Attachments.{ErrorText.Truncate(key)}";
                var lun = Lun(key, where);
                var node = ScsiNode(bus, lun);
                args.AddRange(["-blockdev", Blockdev(attachment, node, where, opened?.FileName(where)).ToJsonString()]);
                args.AddRange(["-device", string.Create(CultureInfo.InvariantCulture, $"{ScsiDriver(attachment)},bus={bus}.0,lun={lun},drive={node},id={node}")]);
            }
        }

        if (devices.GuestCrashReporting is not null)
        {
            if (devices.GuestCrashReporting.WindowsCrashSettings is not null)
            {
                throw HcsException.InvalidJson($"{Path}.GuestCrashReporting.WindowsCrashSettings", "Windows crash dumps are not supported; the crash log is the serial console");
            }

            args.AddRange(["-device", "pvpanic-pci"]);
        }
    }

    /// <summary>
    /// <c>GuestConnection</c>: a virtio-serial port named <see cref="GuestConnectionPortName"/> whose host end is a socket
    /// in the runtime directory. Start completes once the guest opens it (HCS: "start waits for the guest agent").
    /// vsock is not offered (this host has no <c>/dev/vhost-vsock</c>), so <c>UseVsock</c> is refused, as are the
    /// members that need an agent protocol.
    /// </summary>
    private static void GuestConnection(GuestConnection? connection, bool haveVirtioSerial, List<string> args)
    {
        if (connection is null)
        {
            return;
        }

        const string Path = Vm + ".GuestConnection";
        if (connection.UseVsock == true)
        {
            throw HcsException.InvalidJson($"{Path}.UseVsock", "vsock is not available on this host (no /dev/vhost-vsock); the guest connection uses virtio-serial");
        }

        if (connection.UseConnectedSuspend == true)
        {
            throw HcsException.InvalidJson($"{Path}.UseConnectedSuspend", "connected suspend is not supported");
        }

        if (connection.UseHostTimeZone == true)
        {
            throw HcsException.InvalidJson($"{Path}.UseHostTimeZone", "passing the host time zone needs a guest agent protocol, not supported yet");
        }

        if (!haveVirtioSerial)
        {
            args.AddRange(["-device", "virtio-serial-pci,id=vser0"]);
        }

        args.AddRange(["-chardev", $"socket,id=gcs,path={GuestConnectionSocket},server=on,wait=off"]);
        args.AddRange(["-device", $"virtserialport,bus=vser0.0,chardev=gcs,id={GuestConnectionPortId},name={GuestConnectionPortName}"]);
    }

    /// <summary>
    /// The endpoint of a socket chardev a document names: <c>fd=N</c> when the service bound it as the caller
    /// (<see cref="CallerPaths"/>), else <c>path=…</c> (QEMU binds it). Either way it must not be one of the service's
    /// own paths (<see cref="QemuSettings.ReservedPaths"/>).
    /// </summary>
    private static string SocketEndpoint(string? path, string jsonPath, QemuSettings settings, CallerPaths? opened)
    {
        var escaped = QemuOptions.SocketPath(path, jsonPath);
        QemuOptions.NotReserved(path!, jsonPath, settings.ReservedPaths);
        return opened?.ListenerFd(jsonPath) is { } fd ? string.Create(CultureInfo.InvariantCulture, $"fd={fd}") : $"path={escaped}";
    }

    /// <summary>The QEMU block driver of an image, from its extension.</summary>
    internal static string DiskFormat(string path) => System.IO.Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".qcow2" => "qcow2",
        ".vhdx" => "vhdx",
        _ => "raw",
    };

    /// <summary>Refuses, by name, every member of <paramref name="record"/> that is set and not in <paramref name="honoured"/>.</summary>
    internal static void OnlyMembers<T>(T? record, string path, params string[] honoured) where T : class
    {
        if (record is null)
        {
            return;
        }

        foreach (var member in HcsJson.SerializeToElement(record).EnumerateObject())
        {
            if (!honoured.Contains(member.Name))
            {
                throw HcsException.InvalidJson($"{path}.{member.Name}", "this member is not supported by the QEMU backend");
            }
        }
    }

    /// <summary>Members this backend cannot honour yet are refused by name.</summary>
    private static void RefuseUnsupported(VirtualMachine vm)
    {
        OnlyMembers(vm.GuestConnection, $"{Vm}.GuestConnection", "UseVsock", "UseConnectedSuspend", "UseHostTimeZone");
        OnlyMembers(vm, Vm, "StopOnReset", "Chipset", "ComputeTopology", "Devices", "RegistryChanges", "Services", "SecuritySettings",
            "StorageQoS", "DebugOptions", "GuestConnection", "GuestState", "RestoreState");
        OnlyMembers(vm.Chipset, $"{Vm}.Chipset", "Uefi", "LinuxKernelDirect");
        OnlyMembers(vm.Chipset?.Uefi, $"{Vm}.Chipset.Uefi", "BootThis", "Console");
        OnlyMembers(vm.ComputeTopology, $"{Vm}.ComputeTopology", "Memory", "Processor");
        OnlyMembers(vm.ComputeTopology?.Memory, $"{Vm}.ComputeTopology.Memory", "SizeInMB", "Backing", "AllowOvercommit");
        OnlyMembers(vm.ComputeTopology?.Processor, $"{Vm}.ComputeTopology.Processor", "Count", "Limit", "Weight");
        OnlyMembers(vm.Devices, $"{Vm}.Devices", "ComPorts", "VirtioSerial", "Scsi", "GuestCrashReporting", "VirtualPMem", "NetworkAdapters",
            "HvSocket", "Plan9", "VirtualSmb", "VirtualPci", "Battery", "VideoMonitor", "EnhancedModeVideo", "Keyboard", "Mouse");
        foreach (var (key, port) in vm.Devices?.ComPorts ?? new Dictionary<string, ComPort>())
        {
            OnlyMembers(port, $"{Vm}.Devices.ComPorts.{ErrorText.Truncate(key)}", "NamedPipe");
        }

        OnlyMembers(vm.Devices?.VideoMonitor, $"{Vm}.Devices.VideoMonitor", "HorizontalResolution", "VerticalResolution", "ConnectionOptions");
        OnlyMembers(vm.Devices?.EnhancedModeVideo, $"{Vm}.Devices.EnhancedModeVideo", "ConnectionOptions");

        foreach (var (name, scsi) in vm.Devices?.Scsi ?? new Dictionary<string, Scsi>())
        {
            OnlyMembers(scsi, $"{Vm}.Devices.Scsi.{ErrorText.Truncate(name)}", "Attachments");
        }

        void Refuse(bool present, string member, string why)
        {
            if (present)
            {
                throw HcsException.InvalidJson($"{Vm}.{member}", why);
            }
        }

        Refuse(vm.RegistryChanges is not null, "RegistryChanges", "registry changes apply to Windows guests only");
        Refuse(vm.Services is not null, "Services", "guest integration services are Windows-only");
        Refuse(vm.SecuritySettings is not null, "SecuritySettings", "confidential VMs / TPM are not supported");
        Refuse(vm.StorageQoS is not null, "StorageQoS", "storage QoS is not supported yet");
        Refuse(vm.DebugOptions is not null, "DebugOptions", "debug options are not supported");
        Refuse(vm.GuestState is not null, "GuestState", "guest state files are not supported yet");
        var devices = vm.Devices;
        Refuse(devices?.VirtualPMem is not null, "Devices.VirtualPMem", "virtual PMem is not supported yet");
        Refuse(devices?.NetworkAdapters is not null, "Devices.NetworkAdapters", "network adapters are not supported yet");
        Refuse(devices?.HvSocket is not null, "Devices.HvSocket", "Hyper-V sockets do not exist on Linux; vsock is not available on this host");
        Refuse(devices?.Plan9 is not null, "Devices.Plan9", "Plan9 shares are not supported yet (the cloud kernel has no 9p)");
        Refuse(devices?.VirtualSmb is not null, "Devices.VirtualSmb", "SMB shares are Windows-only");
        Refuse(devices?.VirtualPci is not null, "Devices.VirtualPci", "PCI device assignment is not supported");
        Refuse(devices?.Battery is not null, "Devices.Battery", "a battery device is not supported");
    }
}

/// <summary>Where an attachment sits: controller bus, LUN, device model.</summary>
/// <param name="Bus">The controller's id (<c>scsiN</c>).</param>
/// <param name="Lun">The LUN.</param>
/// <param name="Driver"><c>scsi-hd</c> or <c>scsi-cd</c>.</param>
internal readonly record struct ScsiSlot(string Bus, uint Lun, string Driver);

/// <summary>One entry of a VM's device layout.</summary>
/// <param name="Key">What it describes.</param>
/// <param name="Value">Its canonical value.</param>
/// <param name="JsonPath">Where a mismatch is reported in a create document.</param>
internal readonly record struct LayoutEntry(string Key, string Value, string JsonPath);
