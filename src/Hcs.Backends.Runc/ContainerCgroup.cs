// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// A container's cgroup (the <c>cgroupsPath</c> runc was given, e.g. <c>/hcs/ID</c>, in every hierarchy) read as HCS
/// statistics, process list and OOM kills, on cgroup v1 and v2 alike (<see cref="Cgroup"/> knows each version's files).
/// Missing or unreadable files give null members (statistics) or empty/zero answers, never exceptions. Units: processor
/// times in 100 ns, sizes in bytes, I/O counts as plain operation counts.
/// </summary>
internal sealed class ContainerCgroup
{
    private ContainerCgroup(Cgroup cgroup) => Cgroup = cgroup;

    /// <summary>The cgroup in every hierarchy.</summary>
    public Cgroup Cgroup { get; }

    /// <summary>The container with <paramref name="cgroupsPath"/> in <paramref name="hierarchy"/>.</summary>
    /// <exception cref="ArgumentException">The path is not below the hierarchy roots.</exception>
    public static ContainerCgroup Open(CgroupHierarchy hierarchy, string cgroupsPath)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        return new(hierarchy.Cgroup(cgroupsPath));
    }

    /// <summary>Processor time (ns → 100 ns); null when nothing could be read.</summary>
    public ProcessorStats? ReadProcessor() => Cgroup.ReadCpuUsage() is { } usage && (usage.UsageNanoseconds ?? usage.UserNanoseconds ?? usage.SystemNanoseconds) is not null
        ? new ProcessorStats { TotalRuntime100ns = usage.UsageNanoseconds / 100, RuntimeUser100ns = usage.UserNanoseconds / 100, RuntimeKernel100ns = usage.SystemNanoseconds / 100 }
        : null;

    /// <summary>Memory: in use (commit), peak, anonymous (private working set); null when nothing could be read.</summary>
    public MemoryStats? ReadMemory() => Cgroup.ReadMemoryUsage() is { } usage
        ? new MemoryStats { MemoryUsageCommitBytes = usage.CurrentBytes, MemoryUsageCommitPeakBytes = usage.PeakBytes, MemoryUsagePrivateWorkingSetBytes = usage.AnonymousBytes }
        : null;

    /// <summary>Block I/O summed over devices; null when nothing could be read.</summary>
    public StorageStats? ReadStorage() => Cgroup.ReadIoUsage() is { } io
        ? new StorageStats { ReadSizeBytes = io.ReadBytes, WriteSizeBytes = io.WriteBytes, ReadCountNormalized = io.Reads, WriteCountNormalized = io.Writes }
        : null;

    /// <summary>The host pids in the cgroup; empty when unreadable.</summary>
    public IReadOnlyList<int> ReadPids() => Cgroup.ReadProcesses();

    /// <summary>Processes killed by the OOM killer in this cgroup; 0 when unknown.</summary>
    public ulong ReadOomKills() => Cgroup.ReadOomKills() ?? 0;
}
