// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Linux.Cgroups;

/// <summary>
/// cgroup v2: one unified hierarchy (a stock Debian 12 or Ubuntu 22.04+ host mounts it at <c>/sys/fs/cgroup</c>; a
/// hybrid host at <c>/sys/fs/cgroup/unified</c>). Its root lists the available controllers in
/// <c>cgroup.controllers</c> (<c>cpuset cpu io memory hugetlb pids rdma misc</c>); a child may use a controller only
/// when its parent has it in <c>cgroup.subtree_control</c>. Files: <c>cpu.max</c> (<c>"quota period"</c> or
/// <c>"max period"</c>), <c>cpu.weight</c>, <c>cpu.stat</c> (<c>usage_usec</c>, <c>user_usec</c>,
/// <c>system_usec</c>, <c>nr_throttled</c>, …), <c>memory.current</c>, <c>memory.peak</c>, <c>memory.max</c>,
/// <c>memory.stat</c>, <c>memory.events</c>, <c>io.stat</c>, <c>cgroup.procs</c>, <c>cgroup.freeze</c>,
/// <c>cgroup.events</c>, <c>cgroup.kill</c>.
/// </summary>
public sealed class CgroupV2 : CgroupHierarchy
{
    private readonly Lazy<HashSet<string>> _controllers;

    /// <summary>The unified hierarchy mounted at <paramref name="root"/> (<paramref name="directoryMade"/>: see <see cref="CgroupHierarchy.DirectoryMade"/>).</summary>
    public CgroupV2(string root, Action<string>? directoryMade = null)
        : base(root, directoryMade)
    {
        _controllers = new(() => (CgroupFiles.ReadLines(root, "cgroup.controllers") ?? [])
            .SelectMany(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal));
    }

    /// <inheritdoc />
    public override CgroupVersion Version => CgroupVersion.V2;

    /// <summary>True if the root's <c>cgroup.controllers</c> lists <paramref name="controller"/>.</summary>
    public override bool HasController(string controller) => _controllers.Value.Contains(controller);

    private protected override Cgroup OpenCgroup(string[] segments, IReadOnlyList<string> controllers) => new(this, segments, controllers);

    private string DirectoryOf(Cgroup cgroup) => Path.Combine([Root, .. cgroup.Segments]);

    internal override IReadOnlyList<string> DirectoriesOf(Cgroup cgroup) => [DirectoryOf(cgroup)];

    internal override string? DirectoryOf(Cgroup cgroup, string controller) => DirectoryOf(cgroup);

    internal override void Create(Cgroup cgroup)
    {
        // v1-only names (cpuacct, freezer, …) have no v2 controller: their files are in cpu.stat and the core.
        var enable = string.Join(' ', cgroup.Controllers.Where(HasController).Select(c => "+" + c));
        MakeDirectories(Root, cgroup.Segments, enable.Length == 0 ? null : dir => CgroupFiles.Write(Version, Root, dir, "cgroup.subtree_control", enable));
    }

    internal override IReadOnlyList<int> ReadProcesses(Cgroup cgroup) => CgroupFiles.ReadPids(DirectoryOf(cgroup)) ?? [];

    internal override ulong? ReadTaskCount(Cgroup cgroup) => CgroupFiles.ReadNumber(DirectoryOf(cgroup), "pids.current");

    internal override void AddProcess(Cgroup cgroup, int pid) =>
        CgroupFiles.Write(Version, Root, DirectoryOf(cgroup), "cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));

    internal override void SetCpuLimits(Cgroup cgroup, CgroupCpuLimits limits)
    {
        var dir = DirectoryOf(cgroup);
        var quota = limits.QuotaMicroseconds is { } q ? q.ToString(CultureInfo.InvariantCulture) : "max";
        CgroupFiles.Write(Version, Root, dir, "cpu.max", string.Create(CultureInfo.InvariantCulture, $"{quota} {limits.PeriodMicroseconds}"));
        if ((limits.Weight ?? (limits.Shares is { } shares ? CgroupCpuLimits.WeightFromShares(shares) : null)) is { } weight)
        {
            CgroupFiles.Write(Version, Root, dir, "cpu.weight", weight.ToString(CultureInfo.InvariantCulture));
        }
    }

    internal override CgroupCpuLimits? ReadCpuLimits(Cgroup cgroup)
    {
        var dir = DirectoryOf(cgroup);
        if (CgroupFiles.ReadValue(dir, "cpu.max")?.Split(' ') is not [var quota, var period] || CgroupFiles.Parse(period) is not { } p)
        {
            return null;
        }

        return new CgroupCpuLimits(quota == "max" ? null : (long?)CgroupFiles.Parse(quota), (long)p, Weight: CgroupFiles.ReadNumber(dir, "cpu.weight"));
    }

    internal override CgroupCpuUsage? ReadCpuUsage(Cgroup cgroup) => ReadCpuUsage(DirectoryOf(cgroup));

    /// <summary><c>cpu.stat</c> of <paramref name="dir"/> (µs → ns).</summary>
    internal static CgroupCpuUsage? ReadCpuUsage(string dir)
    {
        var stat = CgroupFiles.ReadKeyed(dir, "cpu.stat");
        return stat is null
            ? null
            : new CgroupCpuUsage(CgroupFiles.Get(stat, "usage_usec") * 1000, CgroupFiles.Get(stat, "user_usec") * 1000,
                CgroupFiles.Get(stat, "system_usec") * 1000, CgroupFiles.Get(stat, "nr_throttled"));
    }

    internal override CgroupMemoryUsage? ReadMemoryUsage(Cgroup cgroup) => ReadMemoryUsage(DirectoryOf(cgroup));

    /// <summary><c>memory.current</c>, <c>memory.peak</c> and <c>memory.stat</c> <c>anon</c> of <paramref name="dir"/>.</summary>
    internal static CgroupMemoryUsage? ReadMemoryUsage(string dir)
    {
        var usage = new CgroupMemoryUsage(CgroupFiles.ReadNumber(dir, "memory.current"), CgroupFiles.ReadNumber(dir, "memory.peak"),
            CgroupFiles.Get(CgroupFiles.ReadKeyed(dir, "memory.stat"), "anon"));
        return usage is { CurrentBytes: null, PeakBytes: null, AnonymousBytes: null } ? null : usage;
    }

    internal override ulong? ReadMemoryLimit(Cgroup cgroup) => CgroupFiles.ReadNumber(DirectoryOf(cgroup), "memory.max"); // "max": none

    internal override CgroupIoUsage? ReadIoUsage(Cgroup cgroup) => ReadIoUsage(DirectoryOf(cgroup));

    /// <summary><c>io.stat</c> of <paramref name="dir"/>: <c>MAJ:MIN rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…</c> per device, summed.</summary>
    internal static CgroupIoUsage? ReadIoUsage(string dir)
    {
        if (CgroupFiles.ReadLines(dir, "io.stat") is not { } lines)
        {
            return null;
        }

        ulong readBytes = 0, writeBytes = 0, reads = 0, writes = 0;
        foreach (var line in lines)
        {
            foreach (var pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq < 0 || CgroupFiles.Parse(pair[(eq + 1)..]) is not { } value)
                {
                    continue;
                }

                switch (pair[..eq])
                {
                    case "rbytes": readBytes += value; break;
                    case "wbytes": writeBytes += value; break;
                    case "rios": reads += value; break;
                    case "wios": writes += value; break;
                }
            }
        }

        return new CgroupIoUsage(readBytes, writeBytes, reads, writes);
    }

    internal override ulong? ReadOomKills(Cgroup cgroup) => ReadOomKills(DirectoryOf(cgroup));

    /// <summary><c>memory.events</c> <c>oom_kill</c> of <paramref name="dir"/>.</summary>
    internal static ulong? ReadOomKills(string dir) => CgroupFiles.Get(CgroupFiles.ReadKeyed(dir, "memory.events"), "oom_kill");

    internal override void SetFrozen(Cgroup cgroup, bool frozen) => CgroupFiles.Write(Version, Root, DirectoryOf(cgroup), "cgroup.freeze", frozen ? "1" : "0");

    internal override bool? ReadFrozen(Cgroup cgroup) => CgroupFiles.Get(CgroupFiles.ReadKeyed(DirectoryOf(cgroup), "cgroup.events"), "frozen") is { } f ? f == 1 : null;

    internal override bool TryKill(Cgroup cgroup)
    {
        var dir = DirectoryOf(cgroup);
        if (!File.Exists(Path.Combine(dir, "cgroup.kill")))
        {
            return false;
        }

        CgroupFiles.Write(Version, Root, dir, "cgroup.kill", "1");
        return true;
    }
}
