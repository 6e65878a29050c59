// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Hcs.Linux.Tests.Cgroups;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// A container's cgroup read as HCS statistics (100 ns, bytes), process list and OOM kills, on trees laid out like a
/// hybrid host and like a v2 host; and the empty parents runc leaves behind removed from every hierarchy.
/// </summary>
public sealed class ContainerCgroupTests : IDisposable
{
    private readonly FakeCgroupTree _hybrid = FakeCgroupTree.HybridHost();
    private readonly FakeCgroupTree _v2 = FakeCgroupTree.V2Host();

    public void Dispose()
    {
        _hybrid.Dispose();
        _v2.Dispose();
    }

    private ContainerCgroup HybridHost() => ContainerCgroup.Open(_hybrid.Open(), "/hcs/c1");

    [Fact]
    public void RemoveEmptyParents_RemovesTheParentInEveryHierarchy_ButKeepsOnesStillInUse()
    {
        Directory.CreateDirectory(Path.Combine(_hybrid.Root, "memory", "hcs"));
        Directory.CreateDirectory(Path.Combine(_hybrid.Root, "systemd", "hcs", "other-container"));

        CgroupParents.RemoveEmptyNow("/hcs/c1", _hybrid.Open());

        Assert.False(_hybrid.Exists("memory/hcs"));
        Assert.True(_hybrid.Exists("systemd/hcs/other-container"), "a parent with a child cgroup stays");
    }

    [Fact]
    public void RemoveEmptyParents_OnV2_RemovesTheOneParent()
    {
        Directory.CreateDirectory(Path.Combine(_v2.Root, "hcs"));

        CgroupParents.RemoveEmptyNow("/hcs/c1", _v2.Open());

        Assert.False(_v2.Exists("hcs"));
        Assert.True(_v2.Exists("system.slice"));
    }

    [Fact]
    public void RemoveEmptyParents_LeavesParentsAloneWhileAContainerIsBeingCreated()
    {
        Directory.CreateDirectory(Path.Combine(_hybrid.Root, "memory", "hcs"));
        using (CgroupParents.Creating())
        {
            CgroupParents.RemoveEmpty("/hcs/c1", _hybrid.Open());
            Assert.True(_hybrid.Exists("memory/hcs"), "runc may be between its two mkdirs");
        }

        CgroupParents.RemoveEmptyNow("/hcs/c1", _hybrid.Open());
        Assert.False(_hybrid.Exists("memory/hcs"));
    }

    [Fact]
    public void V1Processor_ConvertsNanosecondsAndUserHzTicksTo100ns()
    {
        _hybrid.Write("cpu,cpuacct/hcs/c1/cpuacct.usage", "1234567890\n");
        _hybrid.Write("cpu,cpuacct/hcs/c1/cpuacct.stat", "user 150\nsystem 25\n");

        var stats = HybridHost().ReadProcessor()!;

        Assert.Equal(12_345_678UL, stats.TotalRuntime100ns);
        Assert.Equal(15_000_000UL, stats.RuntimeUser100ns);
        Assert.Equal(2_500_000UL, stats.RuntimeKernel100ns);
    }

    [Fact]
    public void V1Memory_ReadsUsagePeakAndTotalRss()
    {
        _hybrid.Write("memory/hcs/c1/memory.usage_in_bytes", "4096000\n");
        _hybrid.Write("memory/hcs/c1/memory.max_usage_in_bytes", "8192000\n");
        _hybrid.Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\ntotal_cache 300\ntotal_rss 400\n");

        var stats = HybridHost().ReadMemory()!;

        Assert.Equal(4_096_000UL, stats.MemoryUsageCommitBytes);
        Assert.Equal(8_192_000UL, stats.MemoryUsageCommitPeakBytes);
        Assert.Equal(400UL, stats.MemoryUsagePrivateWorkingSetBytes);
    }

    [Fact]
    public void V1Memory_WithoutTotalRss_UsesRss()
    {
        _hybrid.Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\n");

        var stats = HybridHost().ReadMemory()!;

        Assert.Equal(200UL, stats.MemoryUsagePrivateWorkingSetBytes);
        Assert.Null(stats.MemoryUsageCommitBytes);
    }

    [Fact]
    public void V1Storage_SumsReadAndWriteOverDevicesWithoutTotals()
    {
        _hybrid.Write("blkio/hcs/c1/blkio.throttle.io_service_bytes",
            "8:0 Read 1000\n8:0 Write 2000\n8:0 Sync 2500\n8:0 Async 500\n8:0 Discard 0\n8:0 Total 3000\n" +
            "8:16 Read 10\n8:16 Write 20\n8:16 Total 30\nTotal 3030\n");
        _hybrid.Write("blkio/hcs/c1/blkio.throttle.io_serviced", "8:0 Read 3\n8:0 Write 4\n8:0 Total 7\n8:16 Read 1\n8:16 Write 1\nTotal 9\n");

        var stats = HybridHost().ReadStorage()!;

        Assert.Equal(1010UL, stats.ReadSizeBytes);
        Assert.Equal(2020UL, stats.WriteSizeBytes);
        Assert.Equal(4UL, stats.ReadCountNormalized);
        Assert.Equal(5UL, stats.WriteCountNormalized);
    }

    [Fact]
    public void V1_PidsAndOomKills()
    {
        _hybrid.Write("pids/hcs/c1/cgroup.procs", "101\n205\n");
        _hybrid.Write("memory/hcs/c1/cgroup.procs", "999\n");
        _hybrid.Write("memory/hcs/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");

        var cgroup = HybridHost();

        Assert.Equal([101, 205], cgroup.ReadPids());
        Assert.Equal(3UL, cgroup.ReadOomKills());
    }

    [Fact]
    public void MissingFiles_GiveNullsEmptyAndZeroNotExceptions()
    {
        var cgroup = HybridHost();

        Assert.Null(cgroup.ReadProcessor());
        Assert.Null(cgroup.ReadMemory());
        Assert.Null(cgroup.ReadStorage());
        Assert.Empty(cgroup.ReadPids());
        Assert.Equal(0UL, cgroup.ReadOomKills());
    }

    [Fact]
    public void NoHierarchies_ReadNothing()
    {
        var empty = Directory.CreateTempSubdirectory("hcs-no-cgroups-");
        try
        {
            var cgroup = ContainerCgroup.Open(CgroupHierarchy.Open(empty.FullName), "/hcs/c1");

            Assert.Null(cgroup.Cgroup.DirectoryOf("memory"));
            Assert.Null(cgroup.ReadProcessor());
            Assert.Empty(cgroup.ReadPids());
        }
        finally
        {
            empty.Delete(recursive: true);
        }
    }

    [Fact]
    public void V2_ReadsCpuStatMemoryAndIoStat()
    {
        var cgroup = ContainerCgroup.Open(_v2.Open(), "hcs/c2");
        _v2.Cgroup("hcs/c2", "7\n");
        _v2.Write("hcs/c2/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n");
        _v2.Write("hcs/c2/memory.current", "5000\n");
        _v2.Write("hcs/c2/memory.peak", "9000\n");
        _v2.Write("hcs/c2/memory.stat", FakeCgroupTree.MemoryStat(anon: 3000));
        _v2.Write("hcs/c2/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
        _v2.Write("hcs/c2/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n");

        Assert.Equal("/hcs/c2", cgroup.Cgroup.Path);
        var cpu = cgroup.ReadProcessor()!;
        Assert.Equal(15_000UL, cpu.TotalRuntime100ns);
        Assert.Equal(10_000UL, cpu.RuntimeUser100ns);
        Assert.Equal(5_000UL, cpu.RuntimeKernel100ns);
        var memory = cgroup.ReadMemory()!;
        Assert.Equal(5000UL, memory.MemoryUsageCommitBytes);
        Assert.Equal(9000UL, memory.MemoryUsageCommitPeakBytes);
        Assert.Equal(3000UL, memory.MemoryUsagePrivateWorkingSetBytes);
        var io = cgroup.ReadStorage()!;
        Assert.Equal(101UL, io.ReadSizeBytes);
        Assert.Equal(202UL, io.WriteSizeBytes);
        Assert.Equal(4UL, io.ReadCountNormalized);
        Assert.Equal(6UL, io.WriteCountNormalized);
        Assert.Equal([7], cgroup.ReadPids());
        Assert.Equal(1UL, cgroup.ReadOomKills());
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/hcs/../etc")]
    public void APathOutsideTheHierarchy_IsRefused(string path) =>
        Assert.Throws<ArgumentException>(() => ContainerCgroup.Open(_hybrid.Open(), path));

    [Fact]
    public void RealHost_FindsTheMemoryCgroupOfThisProcess()
    {
        // v1: the memory hierarchy's line; v2: the one unified line, "0::/path".
        var v2 = CgroupHierarchy.Host.Version == CgroupVersion.V2;
        var own = File.ReadAllLines("/proc/self/cgroup").Select(l => l.Split(':', 3))
            .FirstOrDefault(f => v2 ? f[0] == "0" : f[1].Split(',').Contains("memory"));
        Assert.SkipWhen(own is null || own[2] == "/", "this process is in no memory cgroup below the root");

        var cgroup = ContainerCgroup.Open(CgroupHierarchy.Host, own![2]);

        Assert.Contains(Environment.ProcessId, cgroup.ReadPids());
        Assert.True(cgroup.ReadMemory()!.MemoryUsageCommitBytes > 0);
    }
}
