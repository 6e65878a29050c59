// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Engine;
using Hcs.Linux.Cgroups;
using Hcs.Linux.Tests.Cgroups;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Processor Count/Limit/Weight → cgroup values, the files a VM's cgroup gets on v1 and v2 (on trees laid out like a
/// hybrid and a v2 host), and Create refused by name when the host has no writable cpu cgroup. No VM boots here.
/// </summary>
public sealed class CgroupMappingTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-cgroup-unit-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _temp.Delete(recursive: true);

    [Theory]
    [InlineData(1u, 25_000ul, 25_000L)]
    [InlineData(2u, 25_000ul, 50_000L)]
    [InlineData(4u, 50_000ul, 200_000L)]
    [InlineData(8u, 99_999ul, 799_992L)]
    [InlineData(1u, 1_000ul, 1_000L)]
    [InlineData(1u, 500ul, 1_000L)] // below the kernel's 1 ms minimum: raised to it
    [InlineData(1u, 1ul, 1_000L)]
    public void Limit_IsAQuotaOfLimitOver100000TimesCountTimesThePeriod(uint count, ulong limit, long quota)
    {
        var controls = new CpuControls(count, limit, null);

        Assert.Equal(quota, controls.QuotaMicroseconds);
        Assert.Equal(new CgroupCpuLimits(quota, 100_000, controls.Shares, controls.CpuWeight), controls.CgroupLimits);
    }

    [Theory]
    [InlineData(100_000ul)]
    [InlineData(null)]
    public void FullOrNoLimit_IsNoQuota(ulong? limit)
    {
        var controls = new CpuControls(2, limit, 100);

        Assert.Null(controls.QuotaMicroseconds);
        Assert.Null(controls.CgroupLimits.QuotaMicroseconds); // v1 -1, v2 "max"
    }

    [Fact]
    public void Limit_WithAnEnormousCount_IsClampedToTheKernelsLargestQuota() =>
        Assert.Equal(CpuControls.MaxQuotaMicroseconds, new CpuControls(uint.MaxValue, 99_999, null).QuotaMicroseconds);

    [Theory]
    [InlineData(null, 1024ul, 100ul)]
    [InlineData(100ul, 1024ul, 100ul)]
    [InlineData(200ul, 2048ul, 200ul)]
    [InlineData(50ul, 512ul, 50ul)]
    [InlineData(1ul, 10ul, 1ul)]
    [InlineData(0ul, 2ul, 1ul)] // the smallest share each kernel interface allows
    [InlineData(10_000ul, 102_400ul, 10_000ul)]
    public void Weight_MapsTo1024SharesPer100_AndToCpuWeightOneToOne(ulong? weight, ulong shares, ulong cpuWeight)
    {
        var controls = new CpuControls(1, null, weight);

        Assert.Equal(shares, controls.Shares);
        Assert.Equal(cpuWeight, controls.CpuWeight);
    }

    [Fact]
    public void ControlsFromADocument_DefaultCountTo1_AndNeedACgroupOnlyWithLimitOrWeight()
    {
        Assert.Equal(new CpuControls(1, null, null), CpuControls.From(null));
        Assert.False(CpuControls.From(new VirtualMachineProcessor { Count = 4 }).IsSet);
        Assert.True(CpuControls.From(new VirtualMachineProcessor { Limit = 100_000 }).IsSet);
        Assert.True(CpuControls.From(new VirtualMachineProcessor { Weight = 100 }).IsSet);
        Assert.Equal(new CpuControls(4, 30_000, 7), CpuControls.From(new VirtualMachineProcessor { Count = 4, Limit = 30_000, Weight = 7 }));
    }

    [Fact]
    public void ProcessorLimitsUpdate_ReplacesTheMembersItSets_AndKeepsTheOthers()
    {
        var controls = new CpuControls(2, 25_000, 200);

        Assert.Equal(new CpuControls(2, 50_000, 200), controls.With(new ProcessorLimits { Limit = 50_000 }));
        Assert.Equal(new CpuControls(2, 25_000, 10), controls.With(new ProcessorLimits { Weight = 10 }));
        Assert.Equal(controls, controls.With(new ProcessorLimits()));
    }

    [Fact]
    public void CreateOnV2_EnablesCpuDownTheTree_WritesCpuMaxAndWeight_AndAddsTheProcess()
    {
        using var tree = FakeCgroupTree.V2Host();

        var cgroup = QemuCpuControls.CreateCgroup(tree.Open(), "hcs/qemu", "vm1", new CpuControls(1, 25_000, 200), "$.Limit", "test", "vm1");
        QemuCpuControls.AddProcess(cgroup, 4242, "$.Limit", "test", "vm1");

        Assert.Equal(Path.Combine(tree.Root, "hcs", "qemu", "vm1"), Assert.Single(cgroup.Directories));
        Assert.Equal("+cpu", tree.Read("cgroup.subtree_control"));
        Assert.Equal("+cpu", tree.Read("hcs/cgroup.subtree_control"));
        Assert.Equal("+cpu", tree.Read("hcs/qemu/cgroup.subtree_control"));
        Assert.Equal("25000 100000", tree.Read("hcs/qemu/vm1/cpu.max"));
        Assert.Equal("200", tree.Read("hcs/qemu/vm1/cpu.weight"));
        Assert.Equal(new[] { 4242 }, cgroup.ReadProcesses());
        Assert.False(tree.Exists("hcs/qemu/vm1/cpu.cfs_quota_us"));

        cgroup.SetCpuLimits(new CpuControls(1, 100_000, 0).CgroupLimits);
        Assert.Equal("max 100000", tree.Read("hcs/qemu/vm1/cpu.max"));
        Assert.Equal("1", tree.Read("hcs/qemu/vm1/cpu.weight"));
    }

    [Fact]
    public void CreateOnV1_WritesPeriodQuotaAndShares_AndRefusesACgroupThatStillHoldsAProcess()
    {
        using var tree = FakeCgroupTree.HybridHost();
        var hierarchy = tree.Open();

        var cgroup = QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", new CpuControls(2, 25_000, 50), "$.Limit", "test", "vm1");

        Assert.Equal("100000", tree.Read("cpu,cpuacct/hcs/vm1/cpu.cfs_period_us"));
        Assert.Equal("50000", tree.Read("cpu,cpuacct/hcs/vm1/cpu.cfs_quota_us"));
        Assert.Equal("512", tree.Read("cpu,cpuacct/hcs/vm1/cpu.shares"));
        Assert.False(tree.Exists("cgroup.subtree_control"));

        QemuCpuControls.AddProcess(cgroup, 4242, "$.Limit", "test", "vm1");
        var e = Assert.Throws<HcsException>(() => QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", new CpuControls(1, null, 100),
            "$.VirtualMachine.ComputeTopology.Processor.Weight", "test", "vm1"));
        Assert.Equal(HResults.ERROR_ALREADY_EXISTS, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Weight: cannot be honoured: cgroup ", e.Message, StringComparison.Ordinal);
        Assert.Contains("already exists and holds process 4242", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_WhereTheCpuControllerLacksAFile_IsNotSupported_AndLeavesNoDirectory()
    {
        using var tree = FakeCgroupTree.HybridHost();
        var hierarchy = CgroupHierarchy.Open(tree.Root); // new cgroups get no interface files: as a kernel without CFS bandwidth

        var e = Assert.Throws<HcsException>(() => QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", new CpuControls(1, 50_000, null), "$.Limit", "test", "vm1"));

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, e.HResult);
        Assert.Contains("$.Limit: cannot be honoured: could not write '100000' to ", e.Message, StringComparison.Ordinal);
        Assert.Contains("has no cpu.cfs_period_us", e.Message, StringComparison.Ordinal);
        Assert.False(tree.Exists("cpu,cpuacct/hcs"), "the cgroup and the parent it made are removed");
    }

    [Theory]
    [InlineData("")]
    [InlineData("/hcs")]
    [InlineData("hcs/")]
    [InlineData("hcs//vm")]
    [InlineData("../hcs")]
    [InlineData("hcs/./x")]
    [InlineData("hcs vms")]
    [InlineData("hcs\nx")]
    public void CgroupParent_NotARelativeCleanPath_IsRefusedByTheBackend(string parent) =>
        Assert.Throws<ArgumentException>(() => new QemuBackend(new QemuSettings { CgroupParent = parent }, _temp.FullName));

    private static SchemaComputeSystem Limited(VirtualMachineProcessor processor) => new()
    {
        SchemaVersion = new Schema.Version { Major = 2, Minor = 2 },
        VirtualMachine = new VirtualMachine
        {
            Chipset = new Chipset
            {
                LinuxKernelDirect = new LinuxKernelDirect
                {
                    KernelFilePath = Path.Combine(TestGuest.GuestDirectory, "vmlinuz"),
                    InitRdPath = Path.Combine(TestGuest.GuestDirectory, "initrd.cpio.gz"),
                    KernelCmdLine = "console=ttyS0 quiet panic=-1 hcstest=idle",
                },
            },
            ComputeTopology = new Topology { Memory = new VirtualMachineMemory { SizeInMB = 256 }, Processor = processor },
        },
    };

    private async Task<HcsException> CreateFailsAsync(FakeCgroupTree tree, VirtualMachineProcessor processor)
    {
        var run = _temp.CreateSubdirectory("run").FullName;
        await using var engine = new ComputeEngine([new QemuBackend(new QemuSettings { CgroupRoot = tree.Root, CgroupParent = "hcs-unit" }, run)]);
        await using var client = HcsClient.Connect(engine, "cgroup-unit");

        var e = await Assert.ThrowsAsync<HcsException>(() => Client.ComputeSystem.CreateAsync(client, "limited", Limited(processor), Ct));

        Assert.Empty(Directory.GetFileSystemEntries(run)); // QEMU was never started
        return e;
    }

    [Fact]
    public async Task Create_WithALimitOnAHostWithoutACpuCgroup_FailsNotSupportedNamingTheLimit()
    {
        using var tree = FakeCgroupTree.HybridHost();
        Directory.Delete(Path.Combine(tree.Root, "cpu,cpuacct"), recursive: true);
        File.Delete(Path.Combine(tree.Root, "cpu"));
        File.Delete(Path.Combine(tree.Root, "cpuacct"));
        tree.Write("cpuacct/cgroup.procs", "1\n");

        var e = await CreateFailsAsync(tree, new VirtualMachineProcessor { Count = 1, Limit = 25_000 });

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Limit: cannot be honoured: no cgroup hierarchy with the cpu controller",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithALimitOnAV2HostThatDoesNotOfferCpu_FailsNotSupportedNamingTheLimit()
    {
        using var tree = FakeCgroupTree.V2Host();
        tree.Write("cgroup.controllers", "cpuset io memory hugetlb pids rdma misc\n");

        var e = await CreateFailsAsync(tree, new VirtualMachineProcessor { Count = 1, Limit = 25_000 });

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Limit: cannot be honoured: no cgroup hierarchy with the cpu controller",
            e.Message, StringComparison.Ordinal);
        Assert.False(tree.Exists("hcs-unit"));
    }

    [Fact]
    public async Task Create_WithAWeightWhereTheCpuHierarchyIsNotWritable_FailsAccessDeniedNamingTheWeight()
    {
        // sysfs refuses mkdir even to root: a stand-in for a cgroup hierarchy this service may not write.
        using var tree = FakeCgroupTree.HybridHost();
        File.Delete(Path.Combine(tree.Root, "cpu"));
        Directory.CreateSymbolicLink(Path.Combine(tree.Root, "cpu"), "/sys");

        var e = await CreateFailsAsync(tree, new VirtualMachineProcessor { Count = 1, Weight = 300 });

        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Weight: cannot be honoured: could not create cgroup /sys/hcs-unit/limited",
            e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/sys/hcs-unit"));
    }

    [Fact]
    public void CommandLine_AcceptsLimitAndWeight_WhichAreNotArguments()
    {
        IReadOnlyList<string> Args(VirtualMachineProcessor processor) =>
            QemuCommandLine.Build("vm1", Limited(processor).VirtualMachine!, new QemuSettings(), "/run/hcs/vm1");

        Assert.Equal(Args(new VirtualMachineProcessor { Count = 2 }), Args(new VirtualMachineProcessor { Count = 2, Limit = 25_000, Weight = 200 }));
    }

    [Fact]
    public void CommandLine_StillRefusesProcessorMembersACgroupCannotHonour()
    {
        var e = Assert.Throws<HcsException>(() => QemuCommandLine.Build("vm1",
            Limited(new VirtualMachineProcessor { Count = 1, Reservation = 10_000 }).VirtualMachine!, new QemuSettings(), "/run/hcs/vm1"));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Reservation:", e.Message, StringComparison.Ordinal);
    }
}
