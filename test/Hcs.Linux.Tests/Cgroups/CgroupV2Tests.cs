// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Xunit;

namespace Hcs.Linux.Tests.Cgroups;

/// <summary>
/// The v2 implementation against a directory laid out like a cgroup v2 host (<see cref="FakeCgroupTree.V2Host"/>):
/// detection, delegation through <c>cgroup.subtree_control</c>, what is written to <c>cpu.max</c>, <c>cpu.weight</c>,
/// <c>cgroup.procs</c>, <c>cgroup.freeze</c> and <c>cgroup.kill</c>, and what is read from the kernel's formats.
/// </summary>
public sealed class CgroupV2Tests : IDisposable
{
    private readonly FakeCgroupTree _tree = FakeCgroupTree.V2Host();

    public void Dispose() => _tree.Dispose();

    private CgroupHierarchy Hierarchy => _tree.Open();

    [Fact]
    public void Open_ARootWithCgroupControllers_IsV2_WithTheControllersItLists()
    {
        var hierarchy = Hierarchy;

        Assert.IsType<CgroupV2>(hierarchy);
        Assert.Equal(CgroupVersion.V2, hierarchy.Version);
        Assert.All((string[])["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"], c => Assert.True(hierarchy.HasController(c), c));
        Assert.False(hierarchy.HasController("cpuacct"));
        Assert.False(hierarchy.HasController("freezer"));
        Assert.Equal([Path.Combine(_tree.Root, "system.slice", "ssh.service")], hierarchy.Cgroup("/system.slice/ssh.service").Directories);
    }

    [Fact]
    public void Create_DelegatesTheControllersDownTheTree_AndMakesTheCgroupWithItsParents()
    {
        var cgroup = Hierarchy.Cgroup("hcs/qemu/vm1", "cpu");

        cgroup.Create();

        Assert.True(cgroup.Exists);
        Assert.Equal("/hcs/qemu/vm1", cgroup.Path);
        Assert.Equal("+cpu", _tree.Read("cgroup.subtree_control"));
        Assert.Equal("+cpu", _tree.Read("hcs/cgroup.subtree_control"));
        Assert.Equal("+cpu", _tree.Read("hcs/qemu/cgroup.subtree_control"));
        Assert.Equal("\n", _tree.Read("hcs/qemu/vm1/cgroup.subtree_control")); // the leaf delegates nothing (it holds the processes)

        Hierarchy.Cgroup("hcs/c1", "cpu", "memory", "pids").Create();
        Assert.Equal("+cpu +memory +pids", _tree.Read("hcs/cgroup.subtree_control"));
    }

    [Fact]
    public void Create_ReusesAnEmptyCgroup_AndRefusesOneThatHoldsAProcess()
    {
        _tree.Cgroup("hcs", "", "cpu");
        _tree.Cgroup("hcs/vm1", "");
        Hierarchy.Cgroup("hcs/vm1", "cpu").Create();

        _tree.Write("hcs/vm1/cgroup.procs", "4242\n");
        var e = Assert.Throws<CgroupException>(() => Hierarchy.Cgroup("hcs/vm1", "cpu").Create());

        Assert.Equal(CgroupErrorKind.Busy, e.Kind);
        Assert.Equal($"cgroup {Path.Combine(_tree.Root, "hcs", "vm1")} already exists and holds process 4242", e.Message);
    }

    [Fact]
    public void SetCpuLimits_WritesCpuMaxAsQuotaPeriodOrMax_AndTheWeight()
    {
        _tree.Cgroup("hcs/vm1", "");
        var cgroup = Hierarchy.Cgroup("hcs/vm1", "cpu");

        cgroup.SetCpuLimits(new CgroupCpuLimits(25_000, 100_000, Shares: 2048, Weight: 200));
        Assert.Equal("25000 100000", _tree.Read("hcs/vm1/cpu.max"));
        Assert.Equal("200", _tree.Read("hcs/vm1/cpu.weight"));
        Assert.Equal(new CgroupCpuLimits(25_000, 100_000, Weight: 200), cgroup.ReadCpuLimits());

        cgroup.SetCpuLimits(new CgroupCpuLimits(null, 100_000, Weight: 1));
        Assert.Equal("max 100000", _tree.Read("hcs/vm1/cpu.max"));
        Assert.Equal("1", _tree.Read("hcs/vm1/cpu.weight"));
        Assert.Equal(new CgroupCpuLimits(null, 100_000, Weight: 1), cgroup.ReadCpuLimits());
        Assert.False(_tree.Exists("hcs/vm1/cpu.shares"));
        Assert.False(_tree.Exists("hcs/vm1/cpu.cfs_quota_us"));
    }

    [Theory]
    [InlineData(2ul, 1ul)]
    [InlineData(1024ul, 39ul)]
    [InlineData(2048ul, 79ul)]
    [InlineData(262_144ul, 10_000ul)]
    public void SetCpuLimits_WithSharesOnly_WritesRuncsConversionToAWeight(ulong shares, ulong weight)
    {
        _tree.Cgroup("c", "");

        Hierarchy.Cgroup("c").SetCpuLimits(new CgroupCpuLimits(null, Shares: shares));

        Assert.Equal(weight, CgroupCpuLimits.WeightFromShares(shares));
        Assert.Equal(weight.ToString(System.Globalization.CultureInfo.InvariantCulture), _tree.Read("c/cpu.weight"));
    }

    [Fact]
    public void SetCpuLimits_WithoutCpuMax_IsNotSupported_NamingTheFileAndTheController()
    {
        Directory.CreateDirectory(Path.Combine(_tree.Root, "bare"));

        var e = Assert.Throws<CgroupException>(() => Hierarchy.Cgroup("bare", "cpu").SetCpuLimits(new CgroupCpuLimits(1000)));

        Assert.Equal(CgroupErrorKind.NotSupported, e.Kind);
        Assert.Equal($"could not write '1000 100000' to {Path.Combine(_tree.Root, "bare", "cpu.max")}: the V2 cpu controller at {_tree.Root} has no cpu.max", e.Message);
    }

    [Fact]
    public void Statistics_AreReadFromCpuStatMemoryAndIoStat_InTheKernelsFormats()
    {
        var cgroup = Hierarchy.Cgroup("/system.slice/ssh.service");
        _tree.Write("system.slice/ssh.service/cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\ncore_sched.force_idle_usec 0\nnr_periods 40\nnr_throttled 7\nthrottled_usec 91000\nnr_bursts 0\nburst_usec 0\n");
        _tree.Write("system.slice/ssh.service/memory.current", "5017600\n");
        _tree.Write("system.slice/ssh.service/memory.peak", "9170944\n");
        _tree.Write("system.slice/ssh.service/memory.stat", FakeCgroupTree.MemoryStat(anon: 3002368));
        _tree.Write("system.slice/ssh.service/memory.max", "100663296\n");
        _tree.Write("system.slice/ssh.service/io.stat",
            "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
        _tree.Write("system.slice/ssh.service/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n");
        _tree.Write("system.slice/ssh.service/pids.current", "3\n");

        Assert.Equal(new CgroupCpuUsage(1_500_000, 1_000_000, 500_000, 7), cgroup.ReadCpuUsage());
        Assert.Equal(new CgroupMemoryUsage(5_017_600, 9_170_944, 3_002_368), cgroup.ReadMemoryUsage());
        Assert.Equal(100_663_296UL, cgroup.ReadMemoryLimit());
        Assert.Equal(new CgroupIoUsage(101, 202, 4, 6), cgroup.ReadIoUsage());
        Assert.Equal(1UL, cgroup.ReadOomKills());
        Assert.Equal(3UL, cgroup.ReadTaskCount());
        Assert.Equal([612], cgroup.ReadProcesses());
    }

    [Fact]
    public void Statistics_OfAKernelBefore519_HaveNoPeak_AndMaxIsNoLimit()
    {
        _tree.Cgroup("hcs/c1", "");
        var cgroup = Hierarchy.Cgroup("hcs/c1");

        Assert.Equal(new CgroupMemoryUsage(0, null, 0), cgroup.ReadMemoryUsage());
        Assert.Null(cgroup.ReadMemoryLimit());
        Assert.Equal(new CgroupCpuLimits(null, 100_000, Weight: 100), cgroup.ReadCpuLimits());
    }

    [Fact]
    public void AGoneCgroup_ReadsAsNullsAndEmpty_NotExceptions()
    {
        var cgroup = Hierarchy.Cgroup("hcs/gone");

        Assert.False(cgroup.Exists);
        Assert.Null(cgroup.ReadCpuUsage());
        Assert.Null(cgroup.ReadMemoryUsage());
        Assert.Null(cgroup.ReadIoUsage());
        Assert.Null(cgroup.ReadOomKills());
        Assert.Null(cgroup.ReadCpuLimits());
        Assert.Null(cgroup.ReadFrozen());
        Assert.Empty(cgroup.ReadProcesses());
    }

    [Fact]
    public void AddProcess_Freeze_AndKill_WriteTheCoreFiles()
    {
        _tree.Cgroup("hcs/c1", "");
        var cgroup = Hierarchy.Cgroup("hcs/c1");

        cgroup.AddProcess(4242);
        Assert.Equal("4242", _tree.Read("hcs/c1/cgroup.procs"));

        cgroup.SetFrozen(true);
        Assert.Equal("1", _tree.Read("hcs/c1/cgroup.freeze"));
        Assert.False(cgroup.ReadFrozen(), "frozen is what cgroup.events says, once the kernel has frozen every task");
        _tree.Write("hcs/c1/cgroup.events", "populated 1\nfrozen 1\n");
        Assert.True(cgroup.ReadFrozen());
        cgroup.SetFrozen(false);
        Assert.Equal("0", _tree.Read("hcs/c1/cgroup.freeze"));

        Assert.True(cgroup.TryKill());
        Assert.Equal("1", _tree.Read("hcs/c1/cgroup.kill"));
        File.Delete(Path.Combine(_tree.Root, "hcs", "c1", "cgroup.kill")); // a kernel before 5.14
        Assert.False(cgroup.TryKill());
    }

    [Fact]
    public void TryRemove_RemovesAnEmptyCgroupAndTheAncestorsLeftEmpty_ButNotOneWithAProcessOrASibling()
    {
        var vm1 = Hierarchy.Cgroup("hcs/qemu/vm1", "cpu");
        var vm2 = Hierarchy.Cgroup("hcs/qemu/vm2", "cpu");
        vm1.Create();
        vm2.Create();
        _tree.Write("hcs/qemu/vm2/cgroup.procs", "77\n");

        _tree.Empty("hcs/qemu/vm1"); // rmdir(2) of a real cgroup ignores its interface files: here they go first
        Assert.True(vm1.TryRemove(emptyAncestors: 2));
        Assert.False(_tree.Exists("hcs/qemu/vm1"));
        Assert.True(_tree.Exists("hcs/qemu"), "vm2 is still in the parent");
        Assert.False(vm2.TryRemove(emptyAncestors: 2), "a cgroup holding a process (here: a file) is not removed");

        _tree.Empty("hcs/qemu/vm2");
        _tree.Empty("hcs/qemu");
        _tree.Empty("hcs");
        Assert.True(vm2.TryRemove(emptyAncestors: 2));
        Assert.False(_tree.Exists("hcs"));
        Assert.True(_tree.Exists("system.slice"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("hcs//vm")]
    [InlineData("../etc")]
    [InlineData("/hcs/./x")]
    public void APathThatIsNotBelowTheRoot_IsRefused(string path) =>
        Assert.Throws<ArgumentException>(() => Hierarchy.Cgroup(path));
}
