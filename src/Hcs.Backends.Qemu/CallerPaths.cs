// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Qemu;

/// <summary>
/// The host paths of a VM document, opened with the credentials of a caller that is not the service
/// (<see cref="HostFiles.ActsForCaller"/>), so QEMU, which runs as the service, is given descriptors instead of names:
/// <list type="bullet">
/// <item>sockets (<c>ComPorts</c>, <c>VirtioSerial</c> <c>NamedPipe</c>) are created and bound by the service as the
/// caller (<see cref="HostFiles.ListenUnix"/>) and passed to QEMU as descriptors 3, 4, … by <c>hcs-shim launch --fd</c>
/// (<c>-chardev socket,fd=N,server=on</c>);</item>
/// <item>files QEMU reads or writes (SCSI images, the kernel and initrd) are opened as the caller and named to QEMU as
/// <c>/proc/SERVICE/fd/N</c>, which QEMU opens while the service still holds them (until QMP answers, by which time
/// QEMU has opened everything on its command line; for a hot add, until <c>blockdev-add</c> returns). Reopening a
/// descriptor through <c>/proc</c> reaches the same inode whatever happens to the path meanwhile.</item>
/// </list>
/// A qcow2 image with a backing file or an external data file is refused (QEMU would open those by name, as the
/// service), and qcow2 images get <c>"backing": null</c>. A custom VNC socket is refused: QEMU 7.2's VNC server cannot
/// take a listening descriptor.
/// </summary>
internal sealed class CallerPaths : IDisposable
{
    private static readonly byte[] s_qcow2Magic = [0x51, 0x46, 0x49, 0xFB]; // "QFI\xfb"
    private readonly List<(string JsonPath, Socket Socket)> _listeners = [];
    private readonly List<string> _bound = []; // socket files bound as the caller, removed (as the caller) if Create fails
    private readonly Dictionary<string, SafeFileHandle> _files = new(StringComparer.Ordinal);

    private CallerPaths()
    {
    }

    /// <summary>Opens the host paths of <paramref name="vm"/> for the current caller; null when the service acts as itself.</summary>
    public static async Task<CallerPaths?> OpenAsync(VirtualMachine vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        if (!HostFiles.ActsForCaller)
        {
            return null;
        }

        const string Vm = "$.VirtualMachine";
        var paths = new CallerPaths();
        try
        {
            var devices = vm.Devices;
            if (devices?.VideoMonitor?.ConnectionOptions is not null || devices?.EnhancedModeVideo?.ConnectionOptions is not null)
            {
                var member = devices.VideoMonitor?.ConnectionOptions is not null ? "VideoMonitor" : "EnhancedModeVideo";
                if (QemuCommandLine.ConsoleEndpoint(vm, "/") != "/" + QemuCommandLine.VncSocket)
                {
                    throw new HcsException(HResults.E_ACCESSDENIED, result: ResultError.From(HResults.E_ACCESSDENIED,
                        $"{Vm}.Devices.{member}.ConnectionOptions.NamedPipe: a VNC socket of the caller's choosing is only available to root callers "
                        + $"(QEMU 7.2's VNC server cannot be given a socket bound with the caller's credentials); omit it to use the VM's own {QemuCommandLine.VncSocket}",
                        "qemu"));
                }
            }

            foreach (var (key, port) in devices?.ComPorts ?? new Dictionary<string, ComPort>())
            {
                await paths.ListenAsync($"{Vm}.Devices.ComPorts.{key}.NamedPipe", port.NamedPipe).ConfigureAwait(false);
            }

            foreach (var (key, port) in devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
            {
                await paths.ListenAsync($"{Vm}.Devices.VirtioSerial.Ports.{key}.NamedPipe", port.NamedPipe).ConfigureAwait(false);
            }

            foreach (var (name, scsi) in devices?.Scsi ?? new Dictionary<string, Scsi>())
            {
                foreach (var (lun, attachment) in scsi.Attachments ?? new Dictionary<string, Attachment>())
                {
                    var where = $"{Vm}.Devices.Scsi.{name}.Attachments.{lun}";
                    paths._files[where] = await OpenImageAsync(attachment, where).ConfigureAwait(false);
                }
            }

            if (vm.Chipset?.LinuxKernelDirect is { } direct)
            {
                await paths.OpenFileAsync($"{Vm}.Chipset.LinuxKernelDirect.KernelFilePath", direct.KernelFilePath).ConfigureAwait(false);
                await paths.OpenFileAsync($"{Vm}.Chipset.LinuxKernelDirect.InitRdPath", direct.InitRdPath).ConfigureAwait(false);
            }

            return paths;
        }
        catch
        {
            await paths.FailedAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Create failed: closes everything and removes, as the caller, the socket files bound for it.</summary>
    public async Task FailedAsync()
    {
        Dispose();
        var bound = _bound.ToArray();
        _bound.Clear();
        if (bound.Length > 0)
        {
            _ = await HostFiles.AsCallerAsync(() => bound.Count(HostFiles.Unlink)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Opens the image of a SCSI attachment as the caller (read-only for an ISO or a read-only disk, else read-write);
    /// a qcow2 image that would make QEMU open other files by name is refused.
    /// </summary>
    public static async Task<SafeFileHandle> OpenImageAsync(Attachment attachment, string jsonPath)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        var path = QemuOptions.CheckedPath(attachment.Path, $"{jsonPath}.Path");
        var readOnly = attachment.Type == AttachmentType.Iso || attachment.ReadOnly == true;
        var handle = await HostFiles.OpenAsync(path, readOnly ? HostOpen.ReadFile : HostOpen.ReadWriteFile, $"{jsonPath}.Path").ConfigureAwait(false);
        try
        {
            var type = HostFiles.TypeOf(handle);
            if (type is not (HostFileType.Regular or HostFileType.BlockDevice))
            {
                throw HcsException.InvalidJson($"{jsonPath}.Path", $"'{path}' is not a disk image (a regular file or a block device)");
            }

            if (QemuCommandLine.DiskFormat(path) == "qcow2")
            {
                CheckQcow2(handle, path, $"{jsonPath}.Path");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>The name QEMU opens a descriptor the service holds by: <c>/proc/SERVICE/fd/N</c>.</summary>
    public static string ProcName(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return string.Create(CultureInfo.InvariantCulture, $"/proc/{Environment.ProcessId}/fd/{handle.DangerousGetHandle()}");
    }

    /// <summary>The descriptor number QEMU gets the listening socket of <paramref name="jsonPath"/> as, if it was opened.</summary>
    public int? ListenerFd(string jsonPath)
    {
        var index = _listeners.FindIndex(l => l.JsonPath == jsonPath);
        return index < 0 ? null : 3 + index;
    }

    /// <summary>The name QEMU opens the file of <paramref name="jsonPath"/> by, if it was opened.</summary>
    public string? FileName(string jsonPath) => _files.TryGetValue(jsonPath, out var handle) ? ProcName(handle) : null;

    /// <summary>Arguments of <c>hcs-shim launch</c> that pass the listening sockets to QEMU as descriptors 3, 4, ….</summary>
    public IEnumerable<string> LauncherArguments()
    {
        if (_listeners.Count == 0)
        {
            yield break;
        }

        yield return "--parent";
        yield return Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var (_, socket) in _listeners)
        {
            yield return "--fd";
            yield return socket.SafeHandle.DangerousGetHandle().ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Closes the service's copies (QEMU keeps its own).</summary>
    public void Dispose()
    {
        foreach (var (_, socket) in _listeners)
        {
            socket.Dispose();
        }

        foreach (var handle in _files.Values)
        {
            handle.Dispose();
        }

        _listeners.Clear();
        _files.Clear();
    }

    private async Task ListenAsync(string jsonPath, string? path)
    {
        var checkedPath = QemuOptions.CheckedPath(path, jsonPath);
        _listeners.Add((jsonPath, await HostFiles.AsCallerAsync(() => HostFiles.ListenUnix(checkedPath, jsonPath)).ConfigureAwait(false)));
        _bound.Add(checkedPath);
    }

    private async Task OpenFileAsync(string jsonPath, string? path)
    {
        if (path is not null)
        {
            _files[jsonPath] = await HostFiles.OpenAsync(QemuOptions.CheckedPath(path, jsonPath), HostOpen.ReadFile, jsonPath).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Refuses a qcow2 image with a backing file (header offset 8) or an external data file (incompatible feature bit
    /// 2 of a version 3 header): QEMU would open them by the names in the image, as the service.
    /// </summary>
    private static void CheckQcow2(SafeFileHandle handle, string path, string jsonPath)
    {
        var header = new byte[104];
        var read = RandomAccess.Read(handle, header, 0);
        if (read < 72 || !header.AsSpan(0, 4).SequenceEqual(s_qcow2Magic))
        {
            return; // not qcow2 after all: QEMU's qcow2 driver refuses it by itself
        }

        var backing = BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8));
        var version = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
        var incompatible = version >= 3 && read >= 80 ? BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(72)) : 0;
        if (backing != 0 || (incompatible & 4) != 0)
        {
            throw new HcsException(HResults.E_ACCESSDENIED, result: ResultError.From(HResults.E_ACCESSDENIED,
                $"{jsonPath}: '{path}' names {(backing != 0 ? "a backing file" : "an external data file")}, which QEMU would open as the service; "
                + "for a caller that is not root an image must stand alone (qemu-img convert it, or attach it as root)", "qemu"));
        }
    }
}
