// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text.Json;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>Schema → QEMU argv: each mapping, escaping, and refusal by name.</summary>
public sealed class QemuCommandLineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static VirtualMachine Direct(string verb = "idle") => new()
    {
        Chipset = new Chipset
        {
            LinuxKernelDirect = new LinuxKernelDirect
            {
                KernelFilePath = Path.Combine(TestGuest.GuestDirectory, "vmlinuz"),
                InitRdPath = Path.Combine(TestGuest.GuestDirectory, "initrd.cpio.gz"),
                KernelCmdLine = $"console=ttyS0 quiet panic=-1 hcstest={verb}",
            },
        },
        ComputeTopology = new Topology
        {
            Memory = new VirtualMachineMemory { SizeInMB = 256, Backing = MemoryBackingType.Virtual },
            Processor = new VirtualMachineProcessor { Count = 1 },
        },
    };

    private static IReadOnlyList<string> Build(VirtualMachine vm, string run = "/run/hcs/vm1") =>
        QemuCommandLine.Build("vm1", vm, new QemuSettings(), run);

    private static string After(IReadOnlyList<string> args, string flag) => args[args.ToList().IndexOf(flag) + 1];

    private static void Refused(VirtualMachine vm, string path)
    {
        var e = Assert.Throws<HcsException>(() => Build(vm));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains(path + ":", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Always_StartsPaused_StaysAliveAfterShutdownOrPanic_AndCapturesTheConsole()
    {
        var args = Build(Direct());
        Assert.Contains("-S", args);
        Assert.Contains("-no-shutdown", args);
        Assert.Equal("panic=pause", After(args, "-action"));
        Assert.Equal("unix:qmp.sock,server=on,wait=off", After(args, "-qmp"));
        Assert.Contains("logfile=/run/hcs/vm1/console.fifo,", After(args, "-chardev"), StringComparison.Ordinal); // ConsoleLog pumps it, bounded
        Assert.Equal("chardev:console", After(args, "-serial"));
        Assert.Equal("tcg", After(args, "-accel"));
    }

    [Fact]
    public void Topology_MapsMemoryBackingAndProcessors()
    {
        var vm = Direct();
        var args = Build(vm);
        Assert.Equal("256", After(args, "-m"));
        Assert.Equal("1", After(args, "-smp"));
        Assert.DoesNotContain("-mem-prealloc", args);
        var physical = vm with { ComputeTopology = vm.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = 512, Backing = MemoryBackingType.Physical }, Processor = new VirtualMachineProcessor { Count = 2 } } };
        args = Build(physical);
        Assert.Contains("-mem-prealloc", args);
        Assert.Equal("2", After(args, "-smp"));
    }

    [Fact]
    public void LinuxKernelDirect_MapsKernelInitrdAndCommandLine()
    {
        var args = Build(Direct("poweroff:5"));
        Assert.EndsWith("/vmlinuz", After(args, "-kernel"), StringComparison.Ordinal);
        Assert.EndsWith("/initrd.cpio.gz", After(args, "-initrd"), StringComparison.Ordinal);
        Assert.Contains("hcstest=poweroff:5", After(args, "-append"), StringComparison.Ordinal);
    }

    [Fact]
    public void ScsiAttachments_AreJsonBlockdevNodes_NamedAndIdentifiedLikeHotAddedOnes()
    {
        var vm = Direct() with
        {
            Devices = new Devices
            {
                Scsi = new Dictionary<string, Scsi>
                {
                    ["primary"] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.VirtualDisk, Path = "/data/a,b.qcow2", ReadOnly = true } } },
                    ["secondary"] = new() { Attachments = new Dictionary<string, Attachment> { ["7"] = new() { Type = AttachmentType.Iso, Path = "/data/boot.iso" } } },
                },
            },
        };
        var args = Build(vm);
        var blockdevs = args.Select((a, i) => (a, i)).Where(x => x.a == "-blockdev").Select(x => System.Text.Json.JsonDocument.Parse(args[x.i + 1]).RootElement).ToList();
        Assert.Equal(2, blockdevs.Count);
        Assert.Equal("qcow2", blockdevs[0].GetProperty("driver").GetString());
        Assert.Equal("scsi0-0", blockdevs[0].GetProperty("node-name").GetString());
        Assert.True(blockdevs[0].GetProperty("read-only").GetBoolean());
        Assert.Equal("/data/a,b.qcow2", blockdevs[0].GetProperty("file").GetProperty("filename").GetString()); // JSON: no comma escaping
        Assert.Equal("scsi1-7", blockdevs[1].GetProperty("node-name").GetString());
        Assert.True(blockdevs[1].GetProperty("read-only").GetBoolean()); // an ISO is always read-only
        Assert.Contains("virtio-scsi-pci,id=scsi0", args);
        Assert.Contains("scsi-hd,bus=scsi0.0,lun=0,drive=scsi0-0,id=scsi0-0", args);
        Assert.Contains("scsi-cd,bus=scsi1.0,lun=7,drive=scsi1-7,id=scsi1-7", args);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("16384")]
    public void ScsiLuns_OtherThanCanonicalNumbersUpTo16383_AreRefusedByName(string lun) =>
        Refused(Direct() with
        {
            Devices = new Devices
            {
                Scsi = new Dictionary<string, Scsi>
                {
                    ["primary"] = new() { Attachments = new Dictionary<string, Attachment> { [lun] = new() { Type = AttachmentType.VirtualDisk, Path = "/data/a.img" } } },
                },
            },
        }, $"$.VirtualMachine.Devices.Scsi.primary.Attachments.{lun}");

    [Fact]
    public void EveryVm_HasTheBalloonDevice()
    {
        Assert.Contains($"virtio-balloon-pci,id={QemuCommandLine.BalloonId}", Build(Direct()));
        Assert.Contains($"virtio-balloon-pci,id={QemuCommandLine.BalloonId}", Build(new VirtualMachine { Chipset = new Chipset { Uefi = new Uefi() } }));
    }

    [Fact]
    public void RestoreState_WaitsForTheSavedStateInsteadOfBooting()
    {
        Assert.DoesNotContain("-incoming", Build(Direct()));
        var args = Build(Direct() with { RestoreState = new RestoreState { SaveStateFilePath = "/var/lib/hcs/vm1.state" } });
        Assert.Equal("defer", After(args, "-incoming"));
        Assert.Contains("-S", args);
    }

    [Theory]
    [InlineData("relative.state")]
    [InlineData("/var/../etc/shadow")]
    [InlineData("/var/a\u0001b")]
    public void RestoreState_BadPaths_AreRefusedByName(string path) =>
        Refused(Direct() with { RestoreState = new RestoreState { SaveStateFilePath = System.Text.RegularExpressions.Regex.Unescape(path) } },
            "$.VirtualMachine.RestoreState.SaveStateFilePath");

    [Fact]
    public void RestoreState_FromATemplate_IsRefusedByName()
    {
        Refused(Direct() with { RestoreState = new RestoreState { TemplateSystemId = "template" } }, "$.VirtualMachine.RestoreState.TemplateSystemId");
        Refused(Direct() with { RestoreState = new RestoreState() }, "$.VirtualMachine.RestoreState.SaveStateFilePath");
    }

    [Fact]
    public void DiagnosticsMonitor_IsASecondQmpSocket_OnlyWhenAskedFor()
    {
        Assert.Single(Build(Direct()), a => a == "-qmp");
        var args = QemuCommandLine.Build("vm1", Direct(), new QemuSettings { DiagnosticsMonitor = true }, "/run/hcs/vm1");
        var monitors = args.Select((a, i) => (a, i)).Where(x => x.a == "-qmp").Select(x => args[x.i + 1]).ToList();
        Assert.Equal(["unix:qmp.sock,server=on,wait=off", $"unix:{QemuCommandLine.DiagnosticsSocket},server=on,wait=off"], monitors);
    }

    [Fact]
    public void SocketsQemuBinds_AreNamedRelativeToItsRuntimeDirectory_FilesAbsolutely()
    {
        var run = "/run/" + new string('r', 250);
        var args = QemuCommandLine.Build("vm1", Direct() with
        {
            GuestConnection = new GuestConnection(),
            Devices = new Devices { VideoMonitor = new VideoMonitor() },
        }, new QemuSettings { DiagnosticsMonitor = true }, run);

        Assert.Equal(["unix:qmp.sock,server=on,wait=off", "unix:qmp-diagnostics.sock,server=on,wait=off"],
            args.Select((a, i) => (a, i)).Where(x => x.a == "-qmp").Select(x => args[x.i + 1]));
        var chardevs = args.Select((a, i) => (a, i)).Where(x => x.a == "-chardev").Select(x => args[x.i + 1]).ToList();
        Assert.Contains(chardevs, c => c.StartsWith($"socket,id=console,path=console.sock,server=on,wait=off,logfile={run}/", StringComparison.Ordinal));
        Assert.Contains("socket,id=gcs,path=gcs.sock,server=on,wait=off", chardevs);
        Assert.Equal("unix:vnc.sock", After(args, "-vnc"));
        Assert.Equal($"{run}/qemu.pid", After(args, "-pidfile"));
        Assert.True(QemuCommandLine.IsQemuOf(args, run));
        Assert.False(QemuCommandLine.IsQemuOf(args, run + "x"), "another runtime directory's -pidfile");
    }

    [Fact]
    public void IsQemuOf_RecognisesAQemuAnEarlierHcsStarted_ByItsAbsoluteQmpSocket()
    {
        string[] earlier = ["-name", "guest=vm1", "-qmp", "unix:/run/hcs/vm1/qmp.sock,server=on,wait=off", "-pidfile", "/run/hcs/vm1/qemu.pid"];
        Assert.True(QemuCommandLine.IsQemuOf(earlier, "/run/hcs/vm1"));
        Assert.False(QemuCommandLine.IsQemuOf(earlier, "/run/hcs/vm2"));
        Assert.False(QemuCommandLine.IsQemuOf(["-qmp", "unix:qmp.sock,server=on,wait=off"], "/run/hcs/vm1"), "a relative -qmp alone names no directory");
    }

    [Fact]
    public void RuntimeSocket_IsTheAbsolutePathWhenItFits_ElseTheNameInQemusWorkingDirectory()
    {
        Assert.Equal("/run/hcs/vm1/save.sock", QemuCommandLine.RuntimeSocket("/run/hcs/vm1", "save.sock"));
        var run = "/run/" + new string('r', 100);
        Assert.Equal("save.sock", QemuCommandLine.RuntimeSocket(run, "save.sock"));
    }

    [Fact]
    public void Uefi_UsesOvmfWithAPerVmVarsCopy()
    {
        var args = Build(new VirtualMachine { Chipset = new Chipset { Uefi = new Uefi() } });
        var drives = args.Select((a, i) => (a, i)).Where(x => x.a == "-drive").Select(x => args[x.i + 1]).ToList();
        Assert.Contains(drives, d => d.Contains("readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd", StringComparison.Ordinal));
        Assert.Contains(drives, d => d.Contains("file=/run/hcs/vm1/OVMF_VARS.fd", StringComparison.Ordinal));
    }

    [Fact]
    public void OptionValues_DoubleCommas_AndPlainPathsRefuseThem()
    {
        Assert.Contains("logfile=/run/hcs/a,,b/console.fifo", After(Build(Direct(), "/run/hcs/a,b"), "-chardev"), StringComparison.Ordinal);

        var comma = Direct() with { Chipset = new Chipset { LinuxKernelDirect = new LinuxKernelDirect { KernelFilePath = "/boot/a,b" } } };
        Refused(comma, "$.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath");
    }

    [Theory]
    [InlineData("relative/vmlinuz")]
    [InlineData("/boot/../etc/shadow")]
    [InlineData("/boot/vm\nlinuz")]
    public void Paths_RelativeWithDotDotOrControlCharacters_AreRefused(string path) =>
        Refused(new VirtualMachine { Chipset = new Chipset { LinuxKernelDirect = new LinuxKernelDirect { KernelFilePath = path } } },
            "$.VirtualMachine.Chipset.LinuxKernelDirect.KernelFilePath");

    [Fact]
    public void UnsupportedMembers_AreRefusedByName()
    {
        var vm = Direct();
        Refused(vm with { GuestState = new GuestState { GuestStateFilePath = "/x.vmgs" } }, "$.VirtualMachine.GuestState");
        Refused(vm with { Devices = new Devices { NetworkAdapters = new Dictionary<string, NetworkAdapter>() } }, "$.VirtualMachine.Devices.NetworkAdapters");
        Refused(vm with { ComputeTopology = vm.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = 256, BackingPageSize = MemoryBackingPageSize.Large } } },
            "$.VirtualMachine.ComputeTopology.Memory.BackingPageSize");
        Refused(vm with { ComputeTopology = vm.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = 256, Backing = MemoryBackingType.Hybrid } } },
            "$.VirtualMachine.ComputeTopology.Memory.Backing");
        Refused(vm with { ComputeTopology = vm.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = 256, Backing = MemoryBackingType.Physical, AllowOvercommit = true } } },
            "$.VirtualMachine.ComputeTopology.Memory.AllowOvercommit");
        Refused(vm with { Chipset = vm.Chipset! with { Uefi = new Uefi() } }, "$.VirtualMachine.Chipset.LinuxKernelDirect");
        Refused(vm with { Devices = new Devices { ComPorts = new Dictionary<string, ComPort> { ["0"] = new() { NamedPipe = "/run/com0" } } } }, "$.VirtualMachine.Devices.ComPorts.0");
        Refused(new VirtualMachine { Chipset = new Chipset { Uefi = new Uefi { Console = SerialConsole.ComPort2 } } }, "$.VirtualMachine.Chipset.Uefi.Console");
        Refused(new VirtualMachine { Chipset = new Chipset { Uefi = new Uefi { Console = SerialConsole.Disabled } } }, "$.VirtualMachine.Chipset.Uefi.Console");
        Refused(new VirtualMachine(), "$.VirtualMachine.Chipset");
    }

    private static VirtualMachine WithDevices(Devices devices) => Direct() with { Devices = devices };

    private static IEnumerable<string> Devices(IReadOnlyList<string> args) =>
        args.Select((a, i) => (a, i)).Where(x => x.a == "-device").Select(x => args[x.i + 1]);

    [Fact]
    public void VideoMonitor_AddsVga_AndAVncServerOnTheRuntimeDirectorySocket()
    {
        var vm = WithDevices(new Devices { VideoMonitor = new VideoMonitor() });
        var args = Build(vm);
        Assert.Contains("VGA", Devices(args));
        Assert.Equal("unix:vnc.sock", After(args, "-vnc")); // in QEMU's working directory, its runtime directory
        Assert.Equal("/run/hcs/vm1/vnc.sock", QemuCommandLine.ConsoleEndpoint(vm, "/run/hcs/vm1"));
        Assert.Null(QemuCommandLine.ConsoleEndpoint(Direct(), "/run/hcs/vm1"));
        Assert.DoesNotContain("-vnc", Build(Direct()));

        // EnhancedModeVideo alone is the same console.
        var enhanced = WithDevices(new Devices { EnhancedModeVideo = new EnhancedModeVideo() });
        Assert.Equal("unix:vnc.sock", After(Build(enhanced), "-vnc"));
    }

    [Fact]
    public void VideoMonitorResolution_IsTheEdidPreferredMode_WithVideoMemoryForIt()
    {
        var args = Build(WithDevices(new Devices { VideoMonitor = new VideoMonitor { HorizontalResolution = 1920, VerticalResolution = 1080 } }));
        Assert.Contains("VGA,xres=1920,yres=1080,vgamem_mb=16", Devices(args));
        args = Build(WithDevices(new Devices { VideoMonitor = new VideoMonitor { HorizontalResolution = 3840, VerticalResolution = 2160 } }));
        Assert.Contains("VGA,xres=3840,yres=2160,vgamem_mb=32", Devices(args));
    }

    [Theory]
    [InlineData((ushort)1920, null, "VerticalResolution")]
    [InlineData(null, (ushort)1080, "HorizontalResolution")]
    [InlineData((ushort)320, (ushort)1080, "HorizontalResolution")]
    [InlineData((ushort)1920, (ushort)479, "VerticalResolution")]
    [InlineData((ushort)8193, (ushort)1080, "HorizontalResolution")]
    public void VideoMonitorResolution_HalfGivenOrOutOfRange_IsRefusedByName(ushort? x, ushort? y, string member) =>
        Refused(WithDevices(new Devices { VideoMonitor = new VideoMonitor { HorizontalResolution = x, VerticalResolution = y } }),
            $"$.VirtualMachine.Devices.VideoMonitor.{member}");

    [Fact]
    public void ConsoleConnectionOptions_NamedPipeIsTheEndpoint_OtherMembersAreRefusedByName()
    {
        static VideoMonitor Monitor(string options) => new() { ConnectionOptions = JsonDocument.Parse(options).RootElement.Clone() };

        var vm = WithDevices(new Devices { VideoMonitor = Monitor("""{"NamedPipe":"/run/consoles/a,b.sock"}""") });
        Assert.Equal("unix:/run/consoles/a,,b.sock", After(Build(vm), "-vnc"));
        Assert.Equal("/run/consoles/a,b.sock", QemuCommandLine.ConsoleEndpoint(vm, "/run/hcs/vm1"));
        var enhanced = WithDevices(new Devices { EnhancedModeVideo = new EnhancedModeVideo { ConnectionOptions = Monitor("""{"NamedPipe":"/run/e.sock"}""").ConnectionOptions } });
        Assert.Equal("unix:/run/e.sock", After(Build(enhanced), "-vnc"));

        const string Options = "$.VirtualMachine.Devices.VideoMonitor.ConnectionOptions";
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("""{"AccessSids":["S-1-5-18"]}""") }), $"{Options}.AccessSids");
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("""{"Password":"x"}""") }), $"{Options}.Password");
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("""{"NamedPipe":"relative.sock"}""") }), $"{Options}.NamedPipe");
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("""{"NamedPipe":42}""") }), $"{Options}.NamedPipe");
        Refused(WithDevices(new Devices { VideoMonitor = Monitor($$"""{"NamedPipe":"/{{new string('s', 107)}}"}""") }), $"{Options}.NamedPipe");
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("[]") }), Options);
        Refused(WithDevices(new Devices { VideoMonitor = Monitor("""{"NamedPipe":"/run/a.sock"}"""), EnhancedModeVideo = enhanced.Devices!.EnhancedModeVideo }),
            "$.VirtualMachine.Devices.EnhancedModeVideo.ConnectionOptions.NamedPipe");
    }

    [Fact]
    public void KeyboardAndMouse_AddVirtioInputDevices()
    {
        var devices = Devices(Build(WithDevices(new Devices { Keyboard = new Keyboard(), Mouse = new Mouse() }))).ToList();
        Assert.Contains("virtio-keyboard-pci", devices);
        Assert.Contains("virtio-tablet-pci", devices);
        Assert.DoesNotContain("virtio-keyboard-pci", Devices(Build(Direct())));
    }

    [Fact]
    public void VirtioSerialPorts_HaveDeviceIds_SoQemuReportsTheirOpenAndClose()
    {
        var vm = WithDevices(new Devices
        {
            VirtioSerial = new VirtioSerial { Ports = new Dictionary<string, VirtioSerialPort> { ["3"] = new() { Name = "org.hcs.agent", NamedPipe = "/run/agent.sock" } } },
        });
        Assert.Contains($"virtserialport,bus=vser0.0,chardev=vport3,id={QemuCommandLine.VirtioSerialPortId("3")},name=org.hcs.agent", Devices(Build(vm)));
    }

    [Fact]
    public void HugeOffendingValues_AreQuotedTruncated()
    {
        var huge = "relative/" + new string('p', 1_000_000);
        var e = Assert.Throws<HcsException>(() => Build(WithDevices(new Devices
        {
            Scsi = new Dictionary<string, Scsi> { [new string('c', 1_000_000)] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Path = huge } } } },
        })));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.True(e.Message.Length < 1000, $"a {e.Message.Length}-char message");
        Assert.Contains("…(1000009 chars)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuiltCommandLine_BootsTheTestGuest_WhichPowersOff()
    {
        var run = Directory.CreateTempSubdirectory("hcs-cmdline-");
        try
        {
            var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = run.FullName };
            foreach (var arg in Build(Direct("poweroff:10") with { Devices = new Devices { GuestCrashReporting = new GuestCrashReporting() } }, run.FullName))
            {
                start.ArgumentList.Add(arg);
            }

            using var console = ConsoleLog.Create(run.FullName, 1 << 20, "cmdline");
            using var qemu = Process.Start(start)!;
            try
            {
                var clock = Stopwatch.StartNew();
                while (!File.Exists(Path.Combine(run.FullName, QemuCommandLine.QmpSocket)) && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    await Task.Delay(10, Ct);
                }

                QmpClient? connected = null;
                while (connected is null)
                {
                    try
                    {
                        connected = await QmpClient.ConnectAsync(Path.Combine(run.FullName, QemuCommandLine.QmpSocket), Ct);
                    }
                    catch (System.Net.Sockets.SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        await Task.Delay(10, Ct); // bound, not yet listening
                    }
                }

                await using var qmp = connected;
                Assert.Equal("prelaunch", (await qmp.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());
                await qmp.ExecuteAsync("cont", cancellationToken: Ct);
                QmpEvent e;
                do
                {
                    e = await qmp.Events.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), Ct);
                }
                while (e.Name != "SHUTDOWN");
                Assert.Equal("guest-shutdown", e.Data!.Value.GetProperty("reason").GetString());

                // -no-shutdown: QEMU stays for post-mortem until told to quit.
                Assert.Equal("shutdown", (await qmp.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());
                await qmp.ExecuteAsync("quit", cancellationToken: Ct);
                await qemu.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
                await console.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
                Assert.Contains("hcs-guest: powering off", await File.ReadAllTextAsync(Path.Combine(run.FullName, QemuCommandLine.ConsoleLog), Ct),
                    StringComparison.Ordinal);
            }
            finally
            {
                if (!qemu.HasExited)
                {
                    qemu.Kill();
                }
            }
        }
        finally
        {
            run.Delete(recursive: true);
        }
    }
}
