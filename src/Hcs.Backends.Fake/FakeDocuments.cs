// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Backends.Fake;

/// <summary>Documents for fake-backend systems, shared by the engine, state, daemon and CLI tests and the benchmarks.</summary>
public static class FakeDocuments
{
    /// <summary>
    /// A kernel-direct VM (256 MB, 1 vCPU; kernel and initrd paths the fake never opens) whose guest obeys
    /// <c>hcstest=<paramref name="guestVerb"/></c> (<c>idle</c>, <c>poweroff:MS</c>, <c>panic:MS</c>, <c>reboot:MS</c>…).
    /// </summary>
    public static string Vm(string guestVerb = "idle", string owner = "hcs-tests", bool stopOnReset = false, bool terminateOnLastHandleClosed = false) =>
        HcsJson.Serialize(new ComputeSystem
        {
            SchemaVersion = new Schema.Version { Major = 2, Minor = 5 },
            Owner = owner,
            ShouldTerminateOnLastHandleClosed = terminateOnLastHandleClosed ? true : null,
            VirtualMachine = new VirtualMachine
            {
                StopOnReset = stopOnReset ? true : null,
                Chipset = new Chipset
                {
                    LinuxKernelDirect = new LinuxKernelDirect
                    {
                        KernelFilePath = "/fake/vmlinuz",
                        InitRdPath = "/fake/initrd.img",
                        KernelCmdLine = $"console=ttyS0 hcstest={guestVerb}",
                    },
                },
                ComputeTopology = new Topology
                {
                    Memory = new VirtualMachineMemory { SizeInMB = 256 },
                    Processor = new VirtualMachineProcessor { Count = 1 },
                },
            },
        });
}
