// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.TestKit;

/// <summary>
/// The test guest built by build.sh into artifacts/guest, and the create document that boots it. The QEMU, daemon
/// and client tests and bench/Hcs.Bench all run the same guest the same way.
/// </summary>
public static class GuestImage
{
    /// <summary>artifacts/guest of the repository this assembly was built in; skips the test when it is not built.</summary>
    public static string Directory
    {
        get
        {
            Requires.GuestImage();
            return Repository.Path("artifacts", "guest");
        }
    }

    /// <summary>
    /// Kernel-direct boot of the test guest with <c>hcstest=VERB</c>, 256 MB, one processor (or
    /// <paramref name="processor"/>), and <paramref name="devices"/>.
    /// </summary>
    public static ComputeSystem Document(string verb, Devices? devices = null, VirtualMachineProcessor? processor = null,
        string owner = "qemu-tests") => new()
        {
            Owner = owner,
            SchemaVersion = new Schema.Version { Major = 2, Minor = 2 },
            VirtualMachine = new VirtualMachine
            {
                Chipset = new Chipset
                {
                    LinuxKernelDirect = new LinuxKernelDirect
                    {
                        KernelFilePath = Path.Combine(Directory, "vmlinuz"),
                        InitRdPath = Path.Combine(Directory, "initrd.cpio.gz"),
                        KernelCmdLine = $"console=ttyS0 quiet panic=-1 hcstest={verb}",
                    },
                },
                ComputeTopology = new Topology
                {
                    Memory = new VirtualMachineMemory { SizeInMB = 256 },
                    Processor = processor ?? new VirtualMachineProcessor { Count = 1 },
                },
                Devices = devices,
            },
        };
}
