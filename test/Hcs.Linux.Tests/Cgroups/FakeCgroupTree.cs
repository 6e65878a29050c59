// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;

namespace Hcs.Linux.Tests.Cgroups;

/// <summary>
/// A directory laid out like a host's <c>/sys/fs/cgroup</c>, with the files and formats the kernel gives them. The
/// files are plain files: what our code writes replaces their content, so a test reads back exactly what was written.
/// </summary>
public sealed class FakeCgroupTree : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-cgroup-tree-");

    private FakeCgroupTree()
    {
    }

    /// <summary>The root (stands for <c>/sys/fs/cgroup</c>).</summary>
    public string Root => Path.Combine(_temp.FullName, "cgroup");

    /// <summary>The hierarchy at <see cref="Root"/>, whose new cgroups get the interface files the kernel would give them.</summary>
    public CgroupHierarchy Open() => CgroupHierarchy.Open(Root, MadeByTheKernel);

    /// <summary>Adds the interface files of a new cgroup directory: v2 (<see cref="Cgroup(string, string, string)"/>'s) or v1.</summary>
    public void MadeByTheKernel(string directory)
    {
        var relative = Path.GetRelativePath(Root, directory);
        if (File.Exists(Path.Combine(Root, "cgroup.controllers")) || relative.StartsWith("unified/", StringComparison.Ordinal))
        {
            Cgroup(relative, "");
            Write($"{relative}/cgroup.events", "populated 0\nfrozen 0\n");
            return;
        }

        foreach (var file in (string[])["cgroup.procs", "tasks", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.shares", "cpu.stat", "freezer.state"])
        {
            Write($"{relative}/{file}", file switch { "cpu.cfs_period_us" => "100000\n", "cpu.cfs_quota_us" => "-1\n", "cpu.shares" => "1024\n", "freezer.state" => "THAWED\n", _ => "" });
        }
    }

    /// <summary>
    /// A cgroup v2 host as Debian 12 / Ubuntu 22.04 lay it out after boot: the root lists every controller and
    /// delegates the usual ones to its children (systemd), <c>init.scope</c>, <c>system.slice</c> with a service,
    /// <c>user.slice</c>; each cgroup has the core files, <c>cpu.*</c>, <c>memory.*</c>, <c>io.stat</c> and <c>pids.*</c>.
    /// </summary>
    public static FakeCgroupTree V2Host()
    {
        var tree = new FakeCgroupTree();
        tree.Write("cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        tree.Write("cgroup.subtree_control", "cpuset cpu io memory pids\n");
        tree.Write("cgroup.procs", "");
        tree.Write("cgroup.max.depth", "max\n");
        tree.Write("cgroup.stat", "nr_descendants 60\nnr_dying_descendants 0\n");
        tree.Write("cpu.stat", "usage_usec 873626000\nuser_usec 512118000\nsystem_usec 361508000\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n");
        tree.Write("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=12851\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        tree.Write("memory.stat", MemoryStat(anon: 214016000));
        tree.Write("io.stat", "8:0 rbytes=1105334272 wbytes=2317553664 rios=22861 wios=51410 dbytes=0 dios=0\n");
        tree.Cgroup("init.scope", "1\n");
        tree.Cgroup("system.slice", "", "cpu io memory pids");
        tree.Cgroup("system.slice/ssh.service", "612\n");
        tree.Cgroup("user.slice", "", "cpu io memory pids");
        return tree;
    }

    /// <summary>
    /// A hybrid host like this project's build machine, with systemd's conventions: <c>cpu,cpuacct</c> co-mounted
    /// with <c>cpu</c> and <c>cpuacct</c> links to it, <c>memory</c>, <c>pids</c>, <c>freezer</c>, <c>blkio</c>, the
    /// named <c>systemd</c> hierarchy and the cgroup2 mount at <c>unified</c> (no controllers).
    /// </summary>
    public static FakeCgroupTree HybridHost(string unifiedControllers = "")
    {
        var tree = new FakeCgroupTree();
        foreach (var hierarchy in (string[])["cpu,cpuacct", "memory", "pids", "freezer", "blkio", "systemd"])
        {
            tree.Write($"{hierarchy}/cgroup.procs", "1\n");
            tree.Write($"{hierarchy}/tasks", "1\n");
            tree.Write($"{hierarchy}/cgroup.clone_children", "0\n");
        }

        Directory.CreateSymbolicLink(Path.Combine(tree.Root, "cpu"), "cpu,cpuacct");
        Directory.CreateSymbolicLink(Path.Combine(tree.Root, "cpuacct"), "cpu,cpuacct");
        tree.Write("cpu,cpuacct/cpu.shares", "1024\n");
        tree.Write("cpu,cpuacct/cpu.cfs_period_us", "100000\n");
        tree.Write("cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
        tree.Write("memory/memory.limit_in_bytes", "9223372036854771712\n");
        tree.Write("unified/cgroup.controllers", unifiedControllers.Length > 0 ? unifiedControllers + "\n" : "\n");
        tree.Write("unified/cgroup.subtree_control", "\n");
        tree.Write("unified/cgroup.procs", "");
        return tree;
    }

    /// <summary>A v2 <c>memory.stat</c> of a 6.1 kernel (abridged to the first keys, in the kernel's order).</summary>
    public static string MemoryStat(ulong anon) =>
        $"anon {anon}\nfile 724992\nkernel 319488\nkernel_stack 32768\npagetables 61440\nsec_pagetables 0\npercpu 0\nsock 0\nvmalloc 0\nshmem 0\n" +
        "zswap 0\nzswapped 0\nfile_mapped 462848\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\n" +
        "inactive_anon 1069056\nactive_anon 12288\ninactive_file 462848\nactive_file 262144\nunevictable 0\nslab_reclaimable 98304\n" +
        "slab_unreclaimable 118784\nslab 217088\npgfault 1869\npgmajfault 0\n";

    /// <summary>Makes a v2 cgroup directory with the files a kernel creates in it.</summary>
    public void Cgroup(string path, string procs, string controllers = "")
    {
        Write($"{path}/cgroup.procs", procs);
        Write($"{path}/cgroup.controllers", controllers + "\n");
        Write($"{path}/cgroup.subtree_control", "\n");
        Write($"{path}/cgroup.type", "domain\n");
        Write($"{path}/cgroup.events", "populated 1\nfrozen 0\n");
        Write($"{path}/cgroup.freeze", "0\n");
        Write($"{path}/cgroup.kill", "");
        Write($"{path}/cpu.max", "max 100000\n");
        Write($"{path}/cpu.weight", "100\n");
        Write($"{path}/cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n");
        Write($"{path}/memory.current", "0\n");
        Write($"{path}/memory.max", "max\n");
        Write($"{path}/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        Write($"{path}/memory.stat", MemoryStat(0));
        Write($"{path}/pids.current", "0\n");
        Write($"{path}/pids.max", "max\n");
    }

    /// <summary>Writes <paramref name="relative"/> below the root, making its directory.</summary>
    public void Write(string relative, string content)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    /// <summary>The content of <paramref name="relative"/> below the root.</summary>
    public string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    /// <summary>True if <paramref name="relative"/> below the root exists (file or directory).</summary>
    public bool Exists(string relative) => Path.Exists(Path.Combine(Root, relative));

    /// <summary>What the kernel does when the last process leaves a cgroup: rmdir then works (here: its files go).</summary>
    public void Empty(string relative)
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, relative)))
        {
            File.Delete(file);
        }
    }

    public void Dispose() => _temp.Delete(recursive: true);
}
