// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
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
        Assert.Equal("unix:/run/hcs/vm1/qmp.sock,server=on,wait=off", After(args, "-qmp"));
        Assert.Contains("logfile=/run/hcs/vm1/console.log", After(args, "-chardev"), StringComparison.Ordinal);
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
        Assert.Equal(["unix:/run/hcs/vm1/qmp.sock,server=on,wait=off", $"unix:/run/hcs/vm1/{QemuCommandLine.DiagnosticsSocket},server=on,wait=off"], monitors);
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
        Assert.Equal("unix:/run/hcs/a,,b/qmp.sock,server=on,wait=off", After(Build(Direct(), "/run/hcs/a,b"), "-qmp"));

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
        Refused(new VirtualMachine(), "$.VirtualMachine.Chipset");
    }

    [Fact]
    public async Task BuiltCommandLine_BootsTheTestGuest_WhichPowersOff()
    {
        var run = Directory.CreateTempSubdirectory("hcs-cmdline-");
        try
        {
            var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var arg in Build(Direct("poweroff:10") with { Devices = new Devices { GuestCrashReporting = new GuestCrashReporting() } }, run.FullName))
            {
                start.ArgumentList.Add(arg);
            }

            using var qemu = Process.Start(start)!;
            try
            {
                var clock = Stopwatch.StartNew();
                while (!File.Exists(Path.Combine(run.FullName, QemuCommandLine.QmpSocket)) && clock.Elapsed < TimeSpan.FromSeconds(10))
                {
                    await Task.Delay(10, Ct);
                }

                await using var qmp = await QmpClient.ConnectAsync(Path.Combine(run.FullName, QemuCommandLine.QmpSocket), Ct);
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
