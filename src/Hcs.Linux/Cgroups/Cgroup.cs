// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>
/// One cgroup, the same on v1 and v2: a path below the root of every hierarchy (<c>/hcs/ID</c>), opened with
/// <see cref="CgroupHierarchy.Cgroup"/>. Reads never throw (what cannot be read is null or empty); changes throw
/// <see cref="CgroupException"/>. Which files each member uses, per version, is said on the member.
/// </summary>
public sealed class Cgroup
{
    internal Cgroup(CgroupHierarchy hierarchy, string[] segments, IReadOnlyList<string> controllers)
    {
        Hierarchy = hierarchy;
        Segments = segments;
        Controllers = controllers;
        Path = "/" + string.Join('/', segments);
    }

    /// <summary>The hierarchy (and so the version) it belongs to.</summary>
    public CgroupHierarchy Hierarchy { get; }

    /// <summary>The path below the hierarchy roots, e.g. <c>/hcs/vm1</c>.</summary>
    public string Path { get; }

    /// <summary>The controllers it was opened for; empty for all.</summary>
    public IReadOnlyList<string> Controllers { get; }

    internal string[] Segments { get; }

    /// <summary>
    /// Its directories on the host: v2 one; v1 one per hierarchy of <see cref="Controllers"/> (all hierarchies, named
    /// ones like <c>systemd</c> and a hybrid host's <c>unified</c> included, when opened for all).
    /// </summary>
    public IReadOnlyList<string> Directories => Hierarchy.DirectoriesOf(this);

    /// <summary>The directory holding <paramref name="controller"/>'s files, or null when no hierarchy has that controller.</summary>
    public string? DirectoryOf(string controller) => Hierarchy.DirectoryOf(this, controller);

    /// <summary>True if one of its <see cref="Directories"/> exists.</summary>
    public bool Exists => Directories.Any(Directory.Exists);

    /// <summary>
    /// Creates it with every missing parent: v1 in each hierarchy of <see cref="Controllers"/>; v2 after writing
    /// <c>+controller</c> for each of <see cref="Controllers"/> to the <c>cgroup.subtree_control</c> of the root and of
    /// every parent on the way down (delegation; v1-only names such as <c>cpuacct</c> or <c>freezer</c> are skipped). A cgroup that exists with no process in it is reused.
    /// </summary>
    /// <exception cref="CgroupException">The host refused (<see cref="CgroupErrorKind.AccessDenied"/>, …), or the
    /// cgroup exists and holds a process (<see cref="CgroupErrorKind.Busy"/>).</exception>
    public void Create() => Hierarchy.Create(this);

    /// <summary>The pids in it (<c>cgroup.procs</c>; v1: of the pids, memory, cpu or cpuacct hierarchy); empty when it is gone.</summary>
    public IReadOnlyList<int> ReadProcesses() => Hierarchy.ReadProcesses(this);

    /// <summary>The number of tasks (threads) in it and its descendants (<c>pids.current</c>); null when unreadable.</summary>
    public ulong? ReadTaskCount() => Hierarchy.ReadTaskCount(this);

    /// <summary>Moves process <paramref name="pid"/>, with all its threads, into it (<c>cgroup.procs</c> in each of its directories).</summary>
    /// <exception cref="CgroupException">The host refused.</exception>
    public void AddProcess(int pid) => Hierarchy.AddProcess(this, pid);

    /// <summary>Writes CPU bandwidth and share (see <see cref="CgroupCpuLimits"/> for the files of each version).</summary>
    /// <exception cref="CgroupException">The host refused, or (<see cref="CgroupErrorKind.NotSupported"/>) the cpu controller lacks a file.</exception>
    public void SetCpuLimits(CgroupCpuLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        Hierarchy.SetCpuLimits(this, limits);
    }

    /// <summary>The CPU bandwidth and share as the host holds them (v1 fills Shares, v2 Weight); null when unreadable.</summary>
    public CgroupCpuLimits? ReadCpuLimits() => Hierarchy.ReadCpuLimits(this);

    /// <summary>CPU time used (see <see cref="CgroupCpuUsage"/>); null when nothing could be read.</summary>
    public CgroupCpuUsage? ReadCpuUsage() => Hierarchy.ReadCpuUsage(this);

    /// <summary>Memory charged (see <see cref="CgroupMemoryUsage"/>); null when nothing could be read.</summary>
    public CgroupMemoryUsage? ReadMemoryUsage() => Hierarchy.ReadMemoryUsage(this);

    /// <summary>The memory limit in bytes (v1 <c>memory.limit_in_bytes</c>, v2 <c>memory.max</c>); null for none or unreadable.</summary>
    public ulong? ReadMemoryLimit() => Hierarchy.ReadMemoryLimit(this);

    /// <summary>Block I/O (see <see cref="CgroupIoUsage"/>); null when nothing could be read.</summary>
    public CgroupIoUsage? ReadIoUsage() => Hierarchy.ReadIoUsage(this);

    /// <summary>
    /// Processes the OOM killer killed in it: v1 <c>memory.oom_control</c> <c>oom_kill</c> (kernel ≥ 4.13), v2
    /// <c>memory.events</c> <c>oom_kill</c>; null when unknown.
    /// </summary>
    public ulong? ReadOomKills() => Hierarchy.ReadOomKills(this);

    /// <summary>Freezes or thaws its processes: v1 <c>freezer.state</c> <c>FROZEN</c>/<c>THAWED</c>, v2 <c>cgroup.freeze</c> 1/0.</summary>
    /// <exception cref="CgroupException">The host refused.</exception>
    public void SetFrozen(bool frozen) => Hierarchy.SetFrozen(this, frozen);

    /// <summary>
    /// True when frozen (v1 <c>freezer.state</c> <c>FROZEN</c>; v2 <c>cgroup.events</c> <c>frozen 1</c>), false when
    /// not (a v1 freeze still in progress, <c>FREEZING</c>, is not frozen); null when unreadable.
    /// </summary>
    public bool? ReadFrozen() => Hierarchy.ReadFrozen(this);

    /// <summary>
    /// SIGKILLs every process in it and its descendants at once through v2 <c>cgroup.kill</c> (kernel ≥ 5.14); false
    /// when the host has no such file (v1, older kernels), and the caller must signal the pids itself.
    /// </summary>
    public bool TryKill() => Hierarchy.TryKill(this);

    /// <summary>
    /// Removes it with <c>rmdir(2)</c> in each of its <see cref="Directories"/>, then up to
    /// <paramref name="emptyAncestors"/> of its ancestors in each that are left empty, deepest first (another cgroup
    /// in one stops the climb). Returns false if it could not be removed (it still holds a process or a child).
    /// </summary>
    public bool TryRemove(int emptyAncestors = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(emptyAncestors);
        var removed = true;
        foreach (var directory in Directories)
        {
            if (!CgroupHierarchy.TryRemoveDirectory(directory))
            {
                removed = false;
                continue;
            }

            var parent = directory;
            for (var level = 0; level < Math.Min(emptyAncestors, Segments.Length - 1); level++)
            {
                parent = System.IO.Path.GetDirectoryName(parent)!;
                if (!CgroupHierarchy.TryRemoveDirectory(parent))
                {
                    break;
                }
            }
        }

        return removed;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Hierarchy.Version} cgroup {Path}";
}
