// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Testing;

/// <summary>
/// The test guest built by build.sh into artifacts/guest, and the create document that boots it. One source file,
/// compiled into the QEMU tests and linked into bench/Hcs.Bench, so both run the same guest the same way.
/// </summary>
internal static class GuestImage
{
    /// <summary>artifacts/guest of the repository this assembly was built in.</summary>
    public static string Directory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "guest", "build.sh")))
                {
                    var guest = Path.Combine(dir.FullName, "artifacts", "guest");
                    return File.Exists(Path.Combine(guest, "initrd.cpio.gz"))
                        ? guest
                        : throw new InvalidOperationException($"no test guest in {guest}: run ./build.sh (it runs guest/build.sh)");
                }
            }

            throw new InvalidOperationException("repository root not found");
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
