// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Processor Count/Limit/Weight → cgroup values, finding the cpu hierarchy in a mount table, the files written on v1
/// and v2 (v2 on a directory standing in for a unified mount), and Create refused by name when the host has no
/// writable cpu cgroup. No VM boots here.
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
        Assert.Equal(quota.ToString(System.Globalization.CultureInfo.InvariantCulture), controls.CfsQuota);
        Assert.Equal($"{quota} 100000", controls.CpuMax);
    }

    [Theory]
    [InlineData(100_000ul)]
    [InlineData(null)]
    public void FullOrNoLimit_IsNoQuota(ulong? limit)
    {
        var controls = new CpuControls(2, limit, 100);

        Assert.Null(controls.QuotaMicroseconds);
        Assert.Equal("-1", controls.CfsQuota);
        Assert.Equal("max 100000", controls.CpuMax);
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

    private const string HybridHost = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    [Fact]
    public void FindCpu_OnAHybridHost_PicksTheV1HierarchyWithTheCpuController()
    {
        Assert.Equal(new CgroupHierarchy(CgroupVersion.V1, "/sys/fs/cgroup/cpu"), CgroupHierarchy.FindCpu(HybridHost));
        Assert.Equal(new CgroupHierarchy(CgroupVersion.V1, "/sys/fs/cgroup/cpu,cpuacct"),
            CgroupHierarchy.FindCpu("25 20 0:22 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct\n"));
        Assert.Null(CgroupHierarchy.FindCpu("33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"));
    }

    [Fact]
    public void FindCpu_OnAUnifiedHost_PicksTheV2MountOnlyIfItOffersCpu()
    {
        var withCpu = _temp.CreateSubdirectory("with cpu").FullName;
        File.WriteAllText(Path.Combine(withCpu, "cgroup.controllers"), "cpuset cpu io memory pids\n");
        var hugetlbOnly = _temp.CreateSubdirectory("hugetlb").FullName;
        File.WriteAllText(Path.Combine(hugetlbOnly, "cgroup.controllers"), "hugetlb\n");
        var escaped = withCpu.Replace(" ", "\\040", StringComparison.Ordinal);

        Assert.Equal(new CgroupHierarchy(CgroupVersion.V2, withCpu),
            CgroupHierarchy.FindCpu($"30 1 0:26 / {escaped} rw,nosuid,nodev shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"));
        Assert.Null(CgroupHierarchy.FindCpu($"30 1 0:26 / {hugetlbOnly} rw - cgroup2 cgroup2 rw\n"));
        Assert.Null(CgroupHierarchy.DiscoverCpu(Path.Combine(_temp.FullName, "no-such-mountinfo")));
    }

    [Fact]
    public void CreateOnV2_EnablesCpuDownTheTree_WritesCpuMaxAndWeight_AndAddsTheProcess()
    {
        var root = _temp.FullName;
        var hierarchy = new CgroupHierarchy(CgroupVersion.V2, root);

        var cgroup = CpuCgroup.Create(hierarchy, "hcs/qemu", "vm1", new CpuControls(1, 25_000, 200), "$.Limit", "test");
        cgroup.AddProcess(4242, "$.Limit");

        Assert.Equal(Path.Combine(root, "hcs", "qemu", "vm1"), cgroup.Path);
        Assert.Equal("+cpu", File.ReadAllText(Path.Combine(root, "cgroup.subtree_control")));
        Assert.Equal("+cpu", File.ReadAllText(Path.Combine(root, "hcs", "cgroup.subtree_control")));
        Assert.Equal("+cpu", File.ReadAllText(Path.Combine(root, "hcs", "qemu", "cgroup.subtree_control")));
        Assert.Equal("25000 100000", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.max")));
        Assert.Equal("200", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.weight")));
        Assert.Equal(new[] { 4242 }, cgroup.Processes());
        Assert.False(File.Exists(Path.Combine(cgroup.Path, "cpu.cfs_quota_us")));

        cgroup.Apply(new CpuControls(1, 100_000, 0), "$.Settings.Limit");
        Assert.Equal("max 100000", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.max")));
        Assert.Equal("1", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.weight")));
    }

    [Fact]
    public void CreateOnV1_WritesPeriodQuotaAndShares_AndRefusesACgroupThatStillHoldsAProcess()
    {
        var hierarchy = new CgroupHierarchy(CgroupVersion.V1, _temp.FullName);

        var cgroup = CpuCgroup.Create(hierarchy, "hcs", "vm1", new CpuControls(2, 25_000, 50), "$.Limit", "test");

        Assert.Equal("100000", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.cfs_period_us")));
        Assert.Equal("50000", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.cfs_quota_us")));
        Assert.Equal("512", File.ReadAllText(Path.Combine(cgroup.Path, "cpu.shares")));
        Assert.False(File.Exists(Path.Combine(_temp.FullName, "cgroup.subtree_control")));

        cgroup.AddProcess(4242, "$.Limit");
        var e = Assert.Throws<HcsException>(() => CpuCgroup.Create(hierarchy, "hcs", "vm1", new CpuControls(1, null, 100), "$.VirtualMachine.ComputeTopology.Processor.Weight", "test"));
        Assert.Equal(HResults.ERROR_ALREADY_EXISTS, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Weight: cannot be honoured", e.Message, StringComparison.Ordinal);
        Assert.Contains("4242", e.Message, StringComparison.Ordinal);
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

    private async Task<HcsException> CreateFailsAsync(string mountInfo, VirtualMachineProcessor processor)
    {
        var table = Path.Combine(_temp.FullName, "mountinfo");
        await File.WriteAllTextAsync(table, mountInfo, Ct);
        var run = _temp.CreateSubdirectory("run").FullName;
        await using var engine = new ComputeEngine([new QemuBackend(new QemuSettings { CgroupMountInfo = table, CgroupParent = "hcs-unit" }, run)]);
        await using var client = HcsClient.Connect(engine, "cgroup-unit");

        var e = await Assert.ThrowsAsync<HcsException>(() => Client.ComputeSystem.CreateAsync(client, "limited", Limited(processor), Ct));

        Assert.Empty(Directory.GetFileSystemEntries(run)); // QEMU was never started
        return e;
    }

    [Fact]
    public async Task Create_WithALimitOnAHostWithoutACpuCgroup_FailsNotSupportedNamingTheLimit()
    {
        var e = await CreateFailsAsync("33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n",
            new VirtualMachineProcessor { Count = 1, Limit = 25_000 });

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, e.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Limit: cannot be honoured: no cgroup hierarchy with the cpu controller",
            e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_WithAWeightWhereTheCpuHierarchyIsNotWritable_FailsAccessDeniedNamingTheWeight()
    {
        // sysfs refuses mkdir even to root: a stand-in for a cgroup hierarchy this service may not write.
        var e = await CreateFailsAsync("32 31 0:29 / /sys rw - cgroup cgroup rw,cpu\n", new VirtualMachineProcessor { Count = 1, Weight = 300 });

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
