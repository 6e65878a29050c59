// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>A fake cgroup tree (v1 hierarchies and a cgroup2 mount) under a temporary directory, described by a fake mountinfo.</summary>
public sealed class ContainerCgroupTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-runc-cgroup-");

    public void Dispose() => _temp.Delete(recursive: true);

    private string Root => _temp.FullName;

    private string MountInfo(params string[] lines)
    {
        var path = Path.Combine(Root, "mountinfo");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    private string V1(string name, string superOptions, int id = 30) =>
        $"{id} 25 0:{id} / {Root}/{name} rw,nosuid,nodev,noexec,relatime shared:{id} - cgroup cgroup rw,{superOptions}";

    private string V2(string name) => $"29 25 0:29 / {Root}/{name} rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate";

    private void Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private ContainerCgroup HybridHost() => ContainerCgroup.Find("/hcs/c1", MountInfo(
        "25 1 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755",
        V2("unified"),
        V1("cpu,cpuacct", "cpu,cpuacct", 31),
        V1("memory", "memory", 32),
        V1("blkio", "blkio", 33),
        V1("pids", "pids", 34),
        V1("systemd", "xattr,name=systemd", 35)));

    [Fact]
    public void Find_UsesEachControllersV1HierarchyAndFallsBackToCgroup2()
    {
        var cgroup = HybridHost();

        Assert.Equal("/hcs/c1", cgroup.Path);
        Assert.Equal($"{Root}/cpu,cpuacct/hcs/c1", cgroup.Directory("cpuacct"));
        Assert.Equal($"{Root}/memory/hcs/c1", cgroup.Directory("memory"));
        Assert.Equal($"{Root}/pids/hcs/c1", cgroup.Directory("pids"));
        Assert.Equal($"{Root}/unified/hcs/c1", cgroup.Directory("io"));
    }

    [Fact]
    public void Directories_IncludeNamedHierarchiesWithoutAController()
    {
        Assert.Equal(
            [$"{Root}/unified/hcs/c1", $"{Root}/cpu,cpuacct/hcs/c1", $"{Root}/memory/hcs/c1", $"{Root}/blkio/hcs/c1", $"{Root}/pids/hcs/c1", $"{Root}/systemd/hcs/c1"],
            HybridHost().Directories);
    }

    [Fact]
    public void RemoveEmptyParents_RemovesTheParentInEveryHierarchy_ButKeepsOnesStillInUse()
    {
        var mountInfo = MountInfo(V1("memory", "memory", 32), V1("systemd", "xattr,name=systemd", 35));
        Directory.CreateDirectory(Path.Combine(Root, "memory", "hcs"));
        Directory.CreateDirectory(Path.Combine(Root, "systemd", "hcs", "other-container"));

        CgroupParents.RemoveEmptyNow("/hcs/c1", mountInfo);

        Assert.False(Directory.Exists(Path.Combine(Root, "memory", "hcs")));
        Assert.True(Directory.Exists(Path.Combine(Root, "systemd", "hcs", "other-container")), "a parent with a child cgroup stays");
    }

    [Fact]
    public void RemoveEmptyParents_LeavesParentsAloneWhileAContainerIsBeingCreated()
    {
        var mountInfo = MountInfo(V1("memory", "memory", 32));
        Directory.CreateDirectory(Path.Combine(Root, "memory", "hcs"));
        using (CgroupParents.Creating())
        {
            CgroupParents.RemoveEmpty("/hcs/c1", mountInfo);
            Assert.True(Directory.Exists(Path.Combine(Root, "memory", "hcs")), "runc may be between its two mkdirs");
        }

        CgroupParents.RemoveEmptyNow("/hcs/c1", mountInfo);
        Assert.False(Directory.Exists(Path.Combine(Root, "memory", "hcs")));
    }

    [Fact]
    public void V1Processor_ConvertsNanosecondsAndUserHzTicksTo100ns()
    {
        Write("cpu,cpuacct/hcs/c1/cpuacct.usage", "1234567890\n");
        Write("cpu,cpuacct/hcs/c1/cpuacct.stat", "user 150\nsystem 25\n");

        var stats = HybridHost().ReadProcessor()!;

        Assert.Equal(12_345_678UL, stats.TotalRuntime100ns);
        Assert.Equal(15_000_000UL, stats.RuntimeUser100ns);
        Assert.Equal(2_500_000UL, stats.RuntimeKernel100ns);
    }

    [Fact]
    public void V1Memory_ReadsUsagePeakAndTotalRss()
    {
        Write("memory/hcs/c1/memory.usage_in_bytes", "4096000\n");
        Write("memory/hcs/c1/memory.max_usage_in_bytes", "8192000\n");
        Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\ntotal_cache 300\ntotal_rss 400\n");

        var stats = HybridHost().ReadMemory()!;

        Assert.Equal(4_096_000UL, stats.MemoryUsageCommitBytes);
        Assert.Equal(8_192_000UL, stats.MemoryUsageCommitPeakBytes);
        Assert.Equal(400UL, stats.MemoryUsagePrivateWorkingSetBytes);
    }

    [Fact]
    public void V1Memory_WithoutTotalRss_UsesRss()
    {
        Write("memory/hcs/c1/memory.stat", "cache 100\nrss 200\n");

        var stats = HybridHost().ReadMemory()!;

        Assert.Equal(200UL, stats.MemoryUsagePrivateWorkingSetBytes);
        Assert.Null(stats.MemoryUsageCommitBytes);
    }

    [Fact]
    public void V1Storage_SumsReadAndWriteOverDevicesWithoutTotals()
    {
        Write("blkio/hcs/c1/blkio.throttle.io_service_bytes",
            "8:0 Read 1000\n8:0 Write 2000\n8:0 Sync 2500\n8:0 Async 500\n8:0 Discard 0\n8:0 Total 3000\n" +
            "8:16 Read 10\n8:16 Write 20\n8:16 Total 30\nTotal 3030\n");
        Write("blkio/hcs/c1/blkio.throttle.io_serviced", "8:0 Read 3\n8:0 Write 4\n8:0 Total 7\n8:16 Read 1\n8:16 Write 1\nTotal 9\n");

        var stats = HybridHost().ReadStorage()!;

        Assert.Equal(1010UL, stats.ReadSizeBytes);
        Assert.Equal(2020UL, stats.WriteSizeBytes);
        Assert.Equal(4UL, stats.ReadCountNormalized);
        Assert.Equal(5UL, stats.WriteCountNormalized);
    }

    [Fact]
    public void V1_PidsAndOomKills()
    {
        Write("pids/hcs/c1/cgroup.procs", "101\n205\n");
        Write("memory/hcs/c1/cgroup.procs", "999\n");
        Write("memory/hcs/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");

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
    public void NoMountInfo_FindsNothingAndReadsNothing()
    {
        var cgroup = ContainerCgroup.Find("/hcs/c1", Path.Combine(Root, "missing"));

        Assert.Null(cgroup.Directory("memory"));
        Assert.Null(cgroup.ReadProcessor());
        Assert.Empty(cgroup.ReadPids());
    }

    [Fact]
    public void V2_ReadsCpuStatMemoryAndIoStat()
    {
        var cgroup = ContainerCgroup.Find("hcs/c2", MountInfo(V2("unified")));
        Write("unified/hcs/c2/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n");
        Write("unified/hcs/c2/memory.current", "5000\n");
        Write("unified/hcs/c2/memory.peak", "9000\n");
        Write("unified/hcs/c2/memory.stat", "anon 3000\nfile 2000\n");
        Write("unified/hcs/c2/io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
        Write("unified/hcs/c2/cgroup.procs", "7\n");
        Write("unified/hcs/c2/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");

        Assert.Equal("/hcs/c2", cgroup.Path);
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

    [Fact]
    public void MountPointsWithEscapedSpaces_AreUnescaped()
    {
        var cgroup = ContainerCgroup.Find("/hcs/c1", MountInfo(
            $"40 25 0:40 / {Root}/with\\040space rw - cgroup cgroup rw,memory"));

        Assert.Equal($"{Root}/with space/hcs/c1", cgroup.Directory("memory"));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/hcs/../etc")]
    public void APathOutsideTheHierarchy_IsRefused(string path) =>
        Assert.Throws<ArgumentException>(() => ContainerCgroup.Find(path, "/proc/self/mountinfo"));

    [Fact]
    public void RealHost_FindsTheMemoryHierarchyOfThisProcess()
    {
        var own = File.ReadAllLines("/proc/self/cgroup").Select(l => l.Split(':', 3)).FirstOrDefault(f => f[1].Split(',').Contains("memory"));
        Assert.SkipWhen(own is null || own[2] == "/", "no v1 memory cgroup below the root here");

        var cgroup = ContainerCgroup.Find(own![2]);

        Assert.Contains(Environment.ProcessId, cgroup.ReadPids());
        Assert.True(cgroup.ReadMemory()!.MemoryUsageCommitBytes > 0);
    }
}
