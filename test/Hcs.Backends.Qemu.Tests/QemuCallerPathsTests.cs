// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text.Json.Nodes;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Host paths a VM document or request names are used with the caller's credentials (<c>HostFiles</c>): a session of
/// uid 65534 cannot make QEMU or the service bind, replace, write or attach what uid 65534 could not, and what it may
/// use ends up owned by it. And no caller, root included, may name the service's own paths. Runs as root; one VM boots.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QemuCallerPathsTests : IAsyncLifetime
{
    private const uint Nobody = 65534;
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-run-");
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("hcs-qemu-caller-");
    private ComputeEngine _engine = null!;
    private IComputeSession _nobody = null!;
    private IComputeSession _root = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The service's own paths, as ServiceHost reserves them.</summary>
    private string Reserved => Path.Combine(_data.FullName, "hcsd");

    public ValueTask InitializeAsync()
    {
        File.SetUnixFileMode(_data.FullName, (UnixFileMode)0b111_101_101); // 0755
        Directory.CreateDirectory(Reserved);
        _engine = new ComputeEngine([new QemuBackend(new QemuSettings { DiagnosticsMonitor = true, ReservedPaths = [Reserved] }, _run.FullName)],
            new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(60) });
        _nobody = _engine.OpenSession(new ClientIdentity("t", Nobody, 0, Nobody, []));
        _root = _engine.OpenSession(new ClientIdentity("t", 0, 0, 0, []));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _nobody.DisposeAsync();
        await _root.DisposeAsync();
        await _engine.DisposeAsync();
        _run.Delete(recursive: true);
        _data.Delete(recursive: true);
    }

    [Fact]
    public async Task AComPortPipe_InARootOnlyDirectory_IsAccessDenied_ForANonRootCaller_AndNothingIsCreated()
    {
        var secret = Dir("secret", 0b111_000_000, 0); // 0700 root
        var pipe = Path.Combine(secret, "com.sock");

        var e = await CreateFailsAsync(_nobody, "com-secret", Document(com: pipe));

        AssertDenied(e, "$.VirtualMachine.Devices.ComPorts.1.NamedPipe", pipe);
        Assert.Empty(Directory.GetFileSystemEntries(secret));
        Assert.Empty(Directory.GetFileSystemEntries(_run.FullName));
    }

    [Fact]
    public async Task AComPortPipe_OverARootOwnedFileOrSocket_IsAccessDenied_AndTheyAreUntouched()
    {
        var shared = Dir("shared", 0b1_111_111_111, 0); // 1777 root, like /tmp
        var file = Path.Combine(shared, "victim");
        await File.WriteAllTextAsync(file, "root's", Ct);
        var socketPath = Path.Combine(shared, "root.sock");
        using var rootSocket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        rootSocket.Bind(new UnixDomainSocketEndPoint(socketPath));
        rootSocket.Listen(1);

        AssertDenied(await CreateFailsAsync(_nobody, "com-file", Document(com: file)), "$.VirtualMachine.Devices.ComPorts.1.NamedPipe", file);
        AssertDenied(await CreateFailsAsync(_nobody, "com-socket", Document(virtioSerial: socketPath)),
            "$.VirtualMachine.Devices.VirtioSerial.Ports.0.NamedPipe", socketPath);

        Assert.Equal("root's", await File.ReadAllTextAsync(file, Ct));
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await probe.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), Ct); // still root's listener
        using var accepted = await rootSocket.AcceptAsync(Ct);
    }

    [Fact]
    public async Task AScsiImage_OrAKernel_ThatOnlyRootMayRead_IsAccessDenied_ForANonRootCaller()
    {
        var image = Path.Combine(Dir("images", 0b111_101_101, 0), "root.img");
        await File.WriteAllBytesAsync(image, new byte[1 << 20], Ct);
        File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite); // 0600 root

        var mine = Dir("mine-scsi", 0b111_101_101, Nobody);

        // The COM port is the caller's to bind, the image is not: Create fails and the socket it bound is removed.
        AssertDenied(await CreateFailsAsync(_nobody, "scsi-root", Document(com: Path.Combine(mine, "com.sock"), scsi: image)),
            "$.VirtualMachine.Devices.Scsi.disks.Attachments.0.Path", image);
        Assert.Empty(Directory.GetFileSystemEntries(mine));
        AssertDenied(await CreateFailsAsync(_nobody, "scsi-dev", Document(scsi: "/dev/vda", readOnly: true)),
            "$.VirtualMachine.Devices.Scsi.disks.Attachments.0.Path", "/dev/vda");

        var kernel = Document();
        kernel["VirtualMachine"]!["Chipset"]!["LinuxKernelDirect"]!["KernelFilePath"] = image;
        AssertDenied(await CreateFailsAsync(_nobody, "kernel-root", kernel), "$.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath", image);
        Assert.Empty(Directory.GetFileSystemEntries(_run.FullName));
    }

    [Fact]
    public async Task AQcow2Image_WithABackingFile_IsAccessDenied_ForANonRootCaller()
    {
        var mine = Dir("mine-qcow2", 0b111_101_101, Nobody);
        var image = Path.Combine(mine, "overlay.qcow2");
        var header = new byte[512];
        byte[] magic = [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 0]; // version 3, backing file at offset 256
        magic.CopyTo(header, 0);
        await File.WriteAllBytesAsync(image, header, Ct);
        Chown(image, Nobody);

        AssertDenied(await CreateFailsAsync(_nobody, "qcow2-backing", Document(scsi: image)), "$.VirtualMachine.Devices.Scsi.disks.Attachments.0.Path", image);
    }

    [Fact]
    public async Task RestoringFromAFileOnlyRootMayRead_IsAccessDenied_ForANonRootCaller()
    {
        var state = Path.Combine(Dir("states", 0b111_000_000, 0), "vm.state");
        await File.WriteAllTextAsync(state, "root's", Ct);
        var document = Document();
        document["VirtualMachine"]!["RestoreState"] = new JsonObject { ["SaveStateFilePath"] = state };

        AssertDenied(await CreateFailsAsync(_nobody, "restore-root", document), "$.VirtualMachine.RestoreState.SaveStateFilePath", state);
    }

    [Fact]
    public async Task ACustomVncSocket_IsRefusedByName_ForANonRootCaller()
    {
        var mine = Dir("mine-vnc", 0b111_101_101, Nobody);
        var document = Document();
        document["VirtualMachine"]!["Devices"] = new JsonObject
        {
            ["VideoMonitor"] = new JsonObject { ["ConnectionOptions"] = new JsonObject { ["NamedPipe"] = Path.Combine(mine, "vnc.sock") } },
        };

        var e = await CreateFailsAsync(_nobody, "vnc", document);

        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        Assert.Contains("$.VirtualMachine.Devices.VideoMonitor.ConnectionOptions.NamedPipe", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(mine));
    }

    [Fact]
    public async Task TheServicesOwnPaths_AreRefusedAsSockets_EvenToRoot_AsWrittenAndThroughASymlink()
    {
        var socket = Path.Combine(Reserved, "hcsd.sock");
        await File.WriteAllTextAsync(socket, "hcsd's", Ct);
        var link = Path.Combine(_data.FullName, "link");
        File.CreateSymbolicLink(link, Reserved);

        AssertDenied(await CreateFailsAsync(_root, "own-socket", Document(com: socket)), "$.VirtualMachine.Devices.ComPorts.1.NamedPipe", socket);
        AssertDenied(await CreateFailsAsync(_root, "own-dir", Document(virtioSerial: Path.Combine(Reserved, "vm", "x.sock"))),
            "$.VirtualMachine.Devices.VirtioSerial.Ports.0.NamedPipe", Reserved);
        AssertDenied(await CreateFailsAsync(_root, "own-link", Document(com: Path.Combine(link, "hcsd.sock"))),
            "$.VirtualMachine.Devices.ComPorts.1.NamedPipe", link);
        var vnc = Document();
        vnc["VirtualMachine"]!["Devices"] = new JsonObject
        {
            ["VideoMonitor"] = new JsonObject { ["ConnectionOptions"] = new JsonObject { ["NamedPipe"] = socket } },
        };
        AssertDenied(await CreateFailsAsync(_root, "own-vnc", vnc), "$.VirtualMachine.Devices.VideoMonitor.ConnectionOptions.NamedPipe", socket);

        Assert.Equal("hcsd's", await File.ReadAllTextAsync(socket, Ct));
        Assert.Empty(Directory.GetFileSystemEntries(_run.FullName));
    }

    /// <summary>
    /// The one VM: created by uid 65534 with a COM port and a disk in its own directory (allowed: the socket is bound
    /// as uid 65534 and QEMU serves it through the descriptor), then paused and saved: into a root-only directory and
    /// over a root-owned file (denied, nothing changes), into its own directory (a 0600 file owned by uid 65534), into
    /// the service's state (denied even for root); a root-only image cannot be hot added, its own can.
    /// </summary>
    [Fact]
    public async Task ANonRootCaller_UsesItsOwnPaths_AndTheResultIsItsOwn_ButNotRootsOrTheServices()
    {
        var mine = Dir("mine", 0b111_101_101, Nobody);
        var pipe = Path.Combine(mine, "com.sock");
        var disk = Path.Combine(mine, "disk.img");
        var hot = Path.Combine(mine, "hot.img");
        foreach (var image in (string[])[disk, hot])
        {
            await File.WriteAllBytesAsync(image, new byte[1 << 20], Ct);
            Chown(image, Nobody);
            File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var rootOnly = Dir("root-only", 0b111_000_000, 0);
        var rootImage = Path.Combine(rootOnly, "root.img");
        await File.WriteAllBytesAsync(rootImage, new byte[1 << 20], Ct);
        var shared = Dir("shared-save", 0b1_111_111_111, 0);
        var rootState = Path.Combine(shared, "vm.state");
        await File.WriteAllTextAsync(rootState, "root's", Ct);

        await using var vm = await _nobody.CreateSystemAsync("caller-vm", Document(com: pipe, scsi: disk).ToJsonString(), Ct);
        try
        {
            await vm.WaitForCreatedAsync(Ct);
            Assert.Equal(Nobody, Owner(pipe));
            using (var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await client.ConnectAsync(new UnixDomainSocketEndPoint(pipe), Ct); // QEMU listens on the socket uid 65534 bound
            }

            await vm.StartAsync(null, Ct);
            await vm.PauseAsync(null, Ct);

            AssertDenied(await SaveFailsAsync(vm, Path.Combine(rootOnly, "vm.state")), "$.SaveStateFilePath", Path.Combine(rootOnly, "vm.state"));
            AssertDenied(await SaveFailsAsync(vm, rootState), "$.SaveStateFilePath", rootState);
            Assert.Equal("root's", await File.ReadAllTextAsync(rootState, Ct));
            Assert.Equal([rootState], Directory.GetFileSystemEntries(shared));
            Assert.Equal([rootImage], Directory.GetFileSystemEntries(rootOnly));

            var own = Path.Combine(mine, "vm.state");
            await vm.SaveAsync(HcsJson.Serialize(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = own }), Ct);
            Assert.Equal(Nobody, Owner(own));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(own));
            Assert.Equal(new[] { disk, hot, own, pipe }.Order(StringComparer.Ordinal), Directory.GetFileSystemEntries(mine).Order(StringComparer.Ordinal));

            var e = await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(HotAdd(rootImage), Ct));
            AssertDenied(e, "$.Settings.Path", rootImage);
            await vm.ModifyAsync(HotAdd(hot), Ct);
        }
        finally
        {
            // A VM that already ended must not hide why the test failed.
            try
            {
                await vm.TerminateAsync(null, Ct);
            }
            catch (HcsException e) when (e.HResult == HResults.HCS_E_SYSTEM_ALREADY_STOPPED)
            {
            }
        }
    }

    private static string HotAdd(string image) => new JsonObject
    {
        ["ResourcePath"] = "VirtualMachine/Devices/Scsi/disks/Attachments/1",
        ["RequestType"] = "Add",
        ["Settings"] = new JsonObject { ["Type"] = "VirtualDisk", ["Path"] = image },
    }.ToJsonString();

    private static async Task<HcsException> SaveFailsAsync(ISystemHandle vm, string target) =>
        await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(HcsJson.Serialize(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = target }), Ct));

    private static async Task<HcsException> CreateFailsAsync(IComputeSession session, string id, JsonObject document)
    {
        return await Assert.ThrowsAsync<HcsException>(async () =>
        {
            await using var system = await session.CreateSystemAsync(id, document.ToJsonString(), Ct);
            await system.WaitForCreatedAsync(Ct);
        });
    }

    private static void AssertDenied(HcsException e, string jsonPath, string path)
    {
        Assert.True(e.HResult == HResults.E_ACCESSDENIED, $"expected E_ACCESSDENIED, got 0x{e.HResult:X8}: {e.Result?.ErrorMessage ?? e.Message}");
        Assert.Contains(jsonPath, e.Result!.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(path, e.Result.ErrorMessage, StringComparison.Ordinal);
    }

    /// <summary>The test guest's document with a COM port, a virtio-serial port and a SCSI disk when given.</summary>
    private JsonObject Document(string? com = null, string? virtioSerial = null, string? scsi = null, bool readOnly = false)
    {
        var devices = new Devices
        {
            ComPorts = com is null ? null : new Dictionary<string, ComPort> { ["1"] = new() { NamedPipe = com } },
            VirtioSerial = virtioSerial is null ? null : new VirtioSerial { Ports = new Dictionary<string, VirtioSerialPort> { ["0"] = new() { Name = "p0", NamedPipe = virtioSerial } } },
            Scsi = scsi is null ? null : new Dictionary<string, Scsi>
            {
                ["disks"] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.VirtualDisk, Path = scsi, ReadOnly = readOnly } } },
            },
        };
        var document = JsonNode.Parse(HcsJson.Serialize(TestGuest.Document("idle", devices)))!.AsObject();

        // The guest's kernel and initrd as uid 65534 may read them: the checkout they come from may be private (a
        // clone in a 0700 temporary directory), and a non-root caller's kernel is opened with its credentials.
        var direct = document["VirtualMachine"]!["Chipset"]!["LinuxKernelDirect"]!.AsObject();
        foreach (var member in (string[])["KernelFilePath", "InitRdPath"])
        {
            if (direct[member]?.GetValue<string>() is { } source)
            {
                var copy = Path.Combine(_data.FullName, "guest", Path.GetFileName(source));
                if (!File.Exists(copy))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                    File.Copy(source, copy);
                    File.SetUnixFileMode(copy, (UnixFileMode)0b110_100_100); // 0644
                }

                direct[member] = copy;
            }
        }

        return document;
    }

    private string Dir(string name, int mode, uint owner)
    {
        var path = Path.Combine(_data.FullName, name);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
        Chown(path, owner);
        return path;
    }

    private static void Chown(string path, uint uid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", ["-h", "--", $"{uid}:{uid}", path])!;
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }

    private static uint Owner(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u", "--", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return uint.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
