// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Xunit;

namespace Hcs.Linux.Tests.Cgroups;

/// <summary>
/// The v1 implementation against a directory laid out like a hybrid host (<see cref="FakeCgroupTree.HybridHost"/>):
/// which hierarchy holds each controller, the files written for CPU limits, freezing and processes, the v1 formats
/// read for statistics, and the cgroup2 mount used for controllers no v1 hierarchy has.
/// </summary>
public sealed class CgroupV1Tests : IDisposable
{
    private readonly FakeCgroupTree _tree = FakeCgroupTree.HybridHost();

    public void Dispose() => _tree.Dispose();

    private string Root => _tree.Root;

    private CgroupHierarchy Hierarchy => _tree.Open();

    [Fact]
    public void Open_ARootOfHierarchies_IsV1_FindingEachControllersHierarchyThroughTheLinks()
    {
        var hierarchy = Assert.IsType<CgroupV1>(Hierarchy);

        Assert.Equal(CgroupVersion.V1, hierarchy.Version);
        Assert.Equal(Path.Combine(Root, "cpu,cpuacct"), hierarchy.HierarchyOf("cpu"));
        Assert.Equal(Path.Combine(Root, "cpu,cpuacct"), hierarchy.HierarchyOf("cpuacct"));
        Assert.Equal(Path.Combine(Root, "memory"), hierarchy.HierarchyOf("memory"));
        Assert.True(hierarchy.HasController("freezer"));
        Assert.False(hierarchy.HasController("io"), "the unified mount of this host offers no controller");
        Assert.Equal(Path.Combine(Root, "unified"), hierarchy.Unified?.Root);
    }

    [Fact]
    public void ACoMountWithoutLinks_AndSeparateMounts_AreFoundByName()
    {
        using var tree = FakeCgroupTree.HybridHost();
        File.Delete(Path.Combine(tree.Root, "cpu"));
        File.Delete(Path.Combine(tree.Root, "cpuacct"));
        Assert.Equal(Path.Combine(tree.Root, "cpu,cpuacct"), ((CgroupV1)CgroupHierarchy.Open(tree.Root)).HierarchyOf("cpu"));

        Directory.Delete(Path.Combine(tree.Root, "cpu,cpuacct"), recursive: true);
        Assert.False(CgroupHierarchy.Open(tree.Root).HasController("cpu"));
        tree.Write("cpuacct/cgroup.procs", "1\n");
        Assert.False(CgroupHierarchy.Open(tree.Root).HasController("cpu"), "cpuacct alone is not cpu");
        tree.Write("cpu/cgroup.procs", "1\n");
        Assert.Equal(Path.Combine(tree.Root, "cpu"), ((CgroupV1)CgroupHierarchy.Open(tree.Root)).HierarchyOf("cpu"));
    }

    [Fact]
    public void Directories_OfACgroupOpenedForAll_AreInEveryHierarchy_NamedAndUnifiedIncluded_LinksCountedOnce()
    {
        Assert.Equal(
            new[] { "blkio", "cpu,cpuacct", "freezer", "memory", "pids", "systemd", "unified" }.Select(h => Path.Combine(Root, h, "hcs", "c1")).Order(),
            Hierarchy.Cgroup("/hcs/c1").Directories.Order());
        Assert.Equal([Path.Combine(Root, "cpu,cpuacct", "hcs", "vm1")], Hierarchy.Cgroup("hcs/vm1", "cpu").Directories);
    }

    [Fact]
    public void CreateForCpu_MakesTheCgroupOnlyInTheCpuHierarchy_AndWritesPeriodQuotaAndShares()
    {
        var cgroup = Hierarchy.Cgroup("hcs/vm1", "cpu");

        cgroup.Create();
        cgroup.SetCpuLimits(new CgroupCpuLimits(50_000, 100_000, Shares: 512, Weight: 50));
        cgroup.AddProcess(4242);

        var dir = Path.Combine(Root, "cpu,cpuacct", "hcs", "vm1");
        Assert.Equal("100000", File.ReadAllText(Path.Combine(dir, "cpu.cfs_period_us")));
        Assert.Equal("50000", File.ReadAllText(Path.Combine(dir, "cpu.cfs_quota_us")));
        Assert.Equal("512", File.ReadAllText(Path.Combine(dir, "cpu.shares")));
        Assert.Equal("4242", File.ReadAllText(Path.Combine(dir, "cgroup.procs")));
        Assert.False(File.Exists(Path.Combine(dir, "cpu.max")));
        Assert.False(_tree.Exists("memory/hcs"), "only the cpu hierarchy was asked for");
        Assert.False(_tree.Exists("cgroup.subtree_control"), "v1 has no delegation");
        Assert.Equal(new CgroupCpuLimits(50_000, 100_000, Shares: 512), cgroup.ReadCpuLimits());
        Assert.Equal([4242], cgroup.ReadProcesses());

        cgroup.SetCpuLimits(new CgroupCpuLimits(null, 100_000, Shares: 2));
        Assert.Equal("-1", File.ReadAllText(Path.Combine(dir, "cpu.cfs_quota_us")));
        Assert.Equal(new CgroupCpuLimits(null, 100_000, Shares: 2), cgroup.ReadCpuLimits());
    }

    [Fact]
    public void Statistics_AreReadFromEachControllersHierarchy_InTheV1Formats()
    {
        _tree.Write("cpu,cpuacct/hcs/c1/cpuacct.usage", "1234567890\n");
        _tree.Write("cpu,cpuacct/hcs/c1/cpuacct.stat", "user 150\nsystem 25\n");
        _tree.Write("cpu,cpuacct/hcs/c1/cpu.stat", "nr_periods 40\nnr_throttled 7\nthrottled_time 91000000\n");
        _tree.Write("memory/hcs/c1/memory.usage_in_bytes", "4096000\n");
        _tree.Write("memory/hcs/c1/memory.max_usage_in_bytes", "8192000\n");
        _tree.Write("memory/hcs/c1/memory.limit_in_bytes", "16777216\n");
        _tree.Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\ntotal_cache 300\ntotal_rss 400\n");
        _tree.Write("memory/hcs/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        _tree.Write("blkio/hcs/c1/blkio.throttle.io_service_bytes",
            "8:0 Read 1000\n8:0 Write 2000\n8:0 Sync 2500\n8:0 Async 500\n8:0 Discard 0\n8:0 Total 3000\n8:16 Read 10\n8:16 Write 20\n8:16 Total 30\nTotal 3030\n");
        _tree.Write("blkio/hcs/c1/blkio.throttle.io_serviced", "8:0 Read 3\n8:0 Write 4\n8:0 Total 7\n8:16 Read 1\n8:16 Write 1\nTotal 9\n");
        _tree.Write("pids/hcs/c1/cgroup.procs", "101\n205\n");
        _tree.Write("pids/hcs/c1/pids.current", "2\n");
        _tree.Write("memory/hcs/c1/cgroup.procs", "999\n");

        var cgroup = Hierarchy.Cgroup("/hcs/c1");

        Assert.Equal(new CgroupCpuUsage(1_234_567_890, 1_500_000_000, 250_000_000, 7), cgroup.ReadCpuUsage()); // USER_HZ ticks are 10 ms
        Assert.Equal(new CgroupMemoryUsage(4_096_000, 8_192_000, 400), cgroup.ReadMemoryUsage());
        Assert.Equal(16_777_216UL, cgroup.ReadMemoryLimit());
        Assert.Equal(new CgroupIoUsage(1010, 2020, 4, 5), cgroup.ReadIoUsage());
        Assert.Equal(3UL, cgroup.ReadOomKills());
        Assert.Equal([101, 205], cgroup.ReadProcesses()); // the pids hierarchy first
        Assert.Equal(2UL, cgroup.ReadTaskCount());
    }

    [Fact]
    public void Memory_WithoutTotalRss_UsesRss_AndTheV1NoLimitValueIsNoLimit()
    {
        _tree.Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\n");
        _tree.Write("memory/hcs/c1/memory.limit_in_bytes", "9223372036854771712\n");

        var cgroup = Hierarchy.Cgroup("/hcs/c1");

        Assert.Equal(new CgroupMemoryUsage(null, null, 200), cgroup.ReadMemoryUsage());
        Assert.Null(cgroup.ReadMemoryLimit());
    }

    [Fact]
    public void AControllerNoV1HierarchyHas_IsReadFromTheUnifiedMount()
    {
        _tree.Write("unified/hcs/c1/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n");
        Directory.Delete(Path.Combine(Root, "blkio"), recursive: true);

        var cgroup = Hierarchy.Cgroup("/hcs/c1");

        Assert.Equal(Path.Combine(Root, "unified", "hcs", "c1"), cgroup.DirectoryOf("io"));
        Assert.Equal(new CgroupIoUsage(100, 200, 1, 2), cgroup.ReadIoUsage());
    }

    [Fact]
    public void OpenForCpu_WhenOnlyTheUnifiedMountOffersIt_IsAV2CgroupThere()
    {
        using var tree = FakeCgroupTree.HybridHost(unifiedControllers: "cpu");
        Directory.Delete(Path.Combine(tree.Root, "cpu,cpuacct"), recursive: true);
        File.Delete(Path.Combine(tree.Root, "cpu"));
        File.Delete(Path.Combine(tree.Root, "cpuacct"));

        var hierarchy = tree.Open();
        var cgroup = hierarchy.Cgroup("hcs/vm1", "cpu");
        cgroup.Create();
        cgroup.SetCpuLimits(new CgroupCpuLimits(25_000, Shares: 2048, Weight: 200));

        Assert.True(hierarchy.HasController("cpu"));
        Assert.Equal(CgroupVersion.V2, cgroup.Hierarchy.Version);
        Assert.Equal("+cpu", tree.Read("unified/hcs/cgroup.subtree_control"));
        Assert.Equal("25000 100000", tree.Read("unified/hcs/vm1/cpu.max"));
    }

    [Fact]
    public void Freeze_WritesFreezerState_AndReadsFrozenOnlyWhenTheKernelSaysFrozen()
    {
        _tree.Write("freezer/hcs/c1/freezer.state", "THAWED\n");
        var cgroup = Hierarchy.Cgroup("/hcs/c1");

        cgroup.SetFrozen(true);
        Assert.Equal("FROZEN", _tree.Read("freezer/hcs/c1/freezer.state"));
        Assert.True(cgroup.ReadFrozen());
        _tree.Write("freezer/hcs/c1/freezer.state", "FREEZING\n");
        Assert.False(cgroup.ReadFrozen());
        cgroup.SetFrozen(false);
        Assert.Equal("THAWED", _tree.Read("freezer/hcs/c1/freezer.state"));
        Assert.False(cgroup.TryKill(), "v1 has no cgroup.kill");
    }

    [Fact]
    public void TryRemove_OfACgroupOpenedForAll_RemovesItInEveryHierarchyWhereItIsEmpty()
    {
        Directory.CreateDirectory(Path.Combine(Root, "memory", "hcs"));
        Directory.CreateDirectory(Path.Combine(Root, "systemd", "hcs", "other-container"));

        Assert.False(Hierarchy.Cgroup("/hcs").TryRemove());

        Assert.False(_tree.Exists("memory/hcs"));
        Assert.True(_tree.Exists("systemd/hcs/other-container"), "a parent with a child cgroup stays");
    }

    [Fact]
    public void Create_WhereTheHierarchyRefusesMkdir_IsAccessDenied_NamingTheCgroup()
    {
        // sysfs refuses mkdir even to root: a stand-in for a cgroup hierarchy this process may not write.
        using var tree = FakeCgroupTree.HybridHost();
        File.Delete(Path.Combine(tree.Root, "cpu"));
        Directory.CreateSymbolicLink(Path.Combine(tree.Root, "cpu"), "/sys");

        var e = Assert.Throws<CgroupException>(() => CgroupHierarchy.Open(tree.Root).Cgroup("hcs-unit/x", "cpu").Create());

        Assert.Equal(CgroupErrorKind.AccessDenied, e.Kind);
        Assert.StartsWith("could not create cgroup /sys/hcs-unit/x: permission denied", e.Message, StringComparison.Ordinal);
    }
}
