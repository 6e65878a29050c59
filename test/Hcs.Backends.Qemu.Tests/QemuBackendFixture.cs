// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Conformance;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// The conformance fixture for the QEMU backend: a fresh engine over a <see cref="QemuBackend"/> per test, the test
/// guest (artifacts/guest) booted under TCG by kernel-direct boot, a UEFI VM without a disk for a guest that ignores
/// the power button, and a guest whose guest connection never comes up for a Start that never completes.
/// </summary>
public sealed class QemuBackendFixture : BackendFixture
{
    private readonly DirectoryInfo _run;

    /// <summary>Creates the fixture (skips the test on a machine without QEMU or the test guest).</summary>
    public QemuBackendFixture()
    {
        Requires.Vms();
        _run = Directory.CreateTempSubdirectory("hcs-qc-");
    }

    /// <inheritdoc />
    public override string Name => "qemu";

    /// <summary>
    /// Long enough for a guest asked to shut down while still booting (~3 s under TCG, far more on a loaded host): the
    /// backend presses the power button again until the guest's ACPI handler runs.
    /// </summary>
    public override TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(40);

    /// <inheritdoc />
    public override TimeSpan Timeout => TimeSpan.FromSeconds(120);

    /// <summary>A guest acts on its verb after booting: ~3 s under TCG, so watch twice as long.</summary>
    public override TimeSpan Settle => TimeSpan.FromSeconds(8);

    /// <summary>The runtime directory of system <paramref name="id"/>.</summary>
    public string RuntimeDirectory(string id) => QemuBackend.RuntimeDirectoryOf(_run.FullName, id);

    /// <inheritdoc />
    public override string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false) =>
        HcsJson.Serialize(LinuxVm(guestVerb, stopOnReset, terminateOnLastHandleClosed));

    /// <inheritdoc />
    public override string IgnoresShutdownDocument(string id) => HcsJson.Serialize(new ComputeSystem
    {
        SchemaVersion = new Schema.Version { Major = 2, Minor = 5 },
        Owner = "hcs-tests",
        VirtualMachine = new VirtualMachine
        {
            // OVMF with no disk ends in its shell, which ignores the ACPI power button (platform.md §6).
            Chipset = new Chipset { Uefi = new Uefi() },
            ComputeTopology = new Topology
            {
                Memory = new VirtualMachineMemory { SizeInMB = 256 },
                Processor = new VirtualMachineProcessor { Count = 1 },
            },
        },
    });

    /// <inheritdoc />
    public override string? HangsOnStartDocument(string id)
    {
        var document = LinuxVm("idle", stopOnReset: false, terminateOnLastHandleClosed: false);
        var vm = document.VirtualMachine!;
        return HcsJson.Serialize(document with
        {
            VirtualMachine = vm with
            {
                // Start waits for the guest connection, which this guest never opens.
                GuestConnection = new GuestConnection(),
                Chipset = vm.Chipset! with
                {
                    LinuxKernelDirect = vm.Chipset.LinuxKernelDirect! with { KernelCmdLine = vm.Chipset.LinuxKernelDirect.KernelCmdLine + " hcsagent=off" },
                },
            },
        });
    }

    /// <inheritdoc />
    public override void KillWorker(string id)
    {
        // QEMU writes its pid file before it opens QMP, and a system is constructed only once QMP is connected.
        var pidFile = Path.Combine(RuntimeDirectory(id), QemuCommandLine.PidFile);
        using var qemu = Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture));
        qemu.Kill();
    }

    /// <inheritdoc />
    protected override IComputeService CreateService() =>
        new ComputeEngine([new QemuBackend(new QemuSettings(), _run.FullName)], new EngineOptions { ShutdownTimeout = ShutdownTimeout });

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _run.Delete(recursive: true);
    }

    private static ComputeSystem LinuxVm(string guestVerb, bool stopOnReset, bool terminateOnLastHandleClosed)
    {
        // The test guest's /init sets kernel.unknown_nmi_panic, so HcsCrashComputeSystem's NMI makes it panic.
        var document = TestGuest.Document(guestVerb, new Devices { GuestCrashReporting = new GuestCrashReporting() }, owner: "hcs-tests");
        return document with
        {
            SchemaVersion = new Schema.Version { Major = 2, Minor = 5 },
            ShouldTerminateOnLastHandleClosed = terminateOnLastHandleClosed,
            VirtualMachine = document.VirtualMachine! with { StopOnReset = stopOnReset ? true : null },
        };
    }
}
