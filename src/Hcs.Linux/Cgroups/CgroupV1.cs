// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Linux.Cgroups;

/// <summary>
/// cgroup v1 (and hybrid): the root is a tmpfs holding one directory per mounted hierarchy, named for its controllers
/// (<c>cpu</c>, <c>memory</c>, <c>pids</c>, <c>freezer</c>, <c>blkio</c>; co-mounted ones as <c>cpu,cpuacct</c>,
/// usually with <c>cpu</c> and <c>cpuacct</c> links to it), for a named hierarchy (<c>systemd</c>), and on a hybrid host
/// <c>unified</c>, a cgroup2 mount (<see cref="Unified"/>). A controller with no v1 hierarchy is used through
/// <see cref="Unified"/>. Hierarchies are found once, when this is constructed. Files: <c>cpu.cfs_period_us</c>,
/// <c>cpu.cfs_quota_us</c> (<c>-1</c>: none), <c>cpu.shares</c>, <c>cpu.stat</c>, <c>cpuacct.usage</c> (ns),
/// <c>cpuacct.stat</c> (USER_HZ ticks), <c>memory.usage_in_bytes</c>, <c>memory.max_usage_in_bytes</c>,
/// <c>memory.limit_in_bytes</c>, <c>memory.stat</c>, <c>memory.oom_control</c>, <c>blkio.throttle.*</c>,
/// <c>freezer.state</c>, <c>cgroup.procs</c>.
/// </summary>
public sealed class CgroupV1 : CgroupHierarchy
{
    /// <summary>v1 reports <c>cpuacct.stat</c> in USER_HZ ticks; Linux fixes USER_HZ at 100 on every architecture hcs runs on.</summary>
    private const ulong NanosecondsPerTick = 1_000_000_000 / 100;

    /// <summary>What v1 <c>memory.limit_in_bytes</c> holds when there is no limit (PAGE_COUNTER_MAX pages), or more.</summary>
    private const ulong UnlimitedMemory = 0x7FFF_FFFF_FFFF_F000;

    private static readonly string[] s_processControllers = ["pids", "memory", "cpu", "cpuacct"];

    private readonly Dictionary<string, string> _controllers = new(StringComparer.Ordinal); // controller → its hierarchy's root
    private readonly List<string> _hierarchies = []; // every hierarchy's root, unified included, each once

    /// <summary>The hierarchies below <paramref name="root"/>, found now (<paramref name="directoryMade"/>: see <see cref="CgroupHierarchy.DirectoryMade"/>).</summary>
    public CgroupV1(string root, Action<string>? directoryMade = null)
        : base(root, directoryMade)
    {
        DirectoryInfo[] mounts;
        try
        {
            mounts = [.. new DirectoryInfo(root).EnumerateDirectories().OrderBy(d => d.Name, StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            mounts = [];
        }

        // Links (cpu → cpu,cpuacct) name the same hierarchy as their target: resolved, it is counted once.
        foreach (var mount in mounts.OrderBy(m => m.LinkTarget is null ? 1 : 0))
        {
            var resolved = mount.LinkTarget is null ? mount.FullName : mount.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? mount.FullName;
            if (!_hierarchies.Contains(resolved))
            {
                _hierarchies.Add(resolved);
            }

            if (mount.Name == "unified")
            {
                Unified = new CgroupV2(resolved, directoryMade);
                continue;
            }

            foreach (var controller in mount.Name.Split(','))
            {
                _controllers.TryAdd(controller, resolved);
            }
        }
    }

    /// <inheritdoc />
    public override CgroupVersion Version => CgroupVersion.V1;

    /// <summary>A hybrid host's cgroup2 mount (<c>unified</c>), used for controllers no v1 hierarchy has; null on a pure v1 host.</summary>
    public CgroupV2? Unified { get; }

    /// <summary>True if a v1 hierarchy has <paramref name="controller"/>, or <see cref="Unified"/> offers it.</summary>
    public override bool HasController(string controller) => _controllers.ContainsKey(controller) || Unified?.HasController(controller) == true;

    /// <summary>The root of the v1 hierarchy holding <paramref name="controller"/> (links resolved), or null.</summary>
    public string? HierarchyOf(string controller) => _controllers.GetValueOrDefault(controller);

    private protected override Cgroup OpenCgroup(string[] segments, IReadOnlyList<string> controllers) =>
        controllers.Count > 0 && Unified is { } unified && controllers.All(c => !_controllers.ContainsKey(c) && unified.HasController(c))
            ? unified.Cgroup(string.Join('/', segments), controllers) // controllers the hybrid host gave to its v2 mount
            : new Cgroup(this, segments, controllers);

    private string? V1Directory(Cgroup cgroup, string controller) =>
        _controllers.TryGetValue(controller, out var root) ? Path.Combine([root, .. cgroup.Segments]) : null;

    private string? UnifiedDirectory(Cgroup cgroup) => Unified is { } unified ? Path.Combine([unified.Root, .. cgroup.Segments]) : null;

    private IEnumerable<string> Roots(Cgroup cgroup) => cgroup.Controllers.Count == 0
        ? _hierarchies
        : cgroup.Controllers.Select(c => _controllers.GetValueOrDefault(c) ?? Unified?.Root).OfType<string>().Distinct(StringComparer.Ordinal);

    internal override IReadOnlyList<string> DirectoriesOf(Cgroup cgroup) => [.. Roots(cgroup).Select(r => Path.Combine([r, .. cgroup.Segments]))];

    internal override string? DirectoryOf(Cgroup cgroup, string controller) => V1Directory(cgroup, controller) ?? UnifiedDirectory(cgroup);

    internal override void Create(Cgroup cgroup)
    {
        foreach (var root in Roots(cgroup))
        {
            MakeDirectories(root, cgroup.Segments, null);
        }
    }

    internal override IReadOnlyList<int> ReadProcesses(Cgroup cgroup)
    {
        var order = cgroup.Controllers.Count == 0 ? s_processControllers : cgroup.Controllers;
        foreach (var directory in order.Select(c => V1Directory(cgroup, c)).Append(UnifiedDirectory(cgroup)))
        {
            if (CgroupFiles.ReadPids(directory) is { } pids)
            {
                return pids;
            }
        }

        return [];
    }

    internal override ulong? ReadTaskCount(Cgroup cgroup) => V1Directory(cgroup, "pids") is { } dir
        ? CgroupFiles.ReadNumber(dir, "pids.current")
        : Unified?.ReadTaskCount(cgroup);

    internal override void AddProcess(Cgroup cgroup, int pid)
    {
        foreach (var root in Roots(cgroup))
        {
            CgroupFiles.Write(Version, root, Path.Combine([root, .. cgroup.Segments]), "cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));
        }
    }

    internal override void SetCpuLimits(Cgroup cgroup, CgroupCpuLimits limits)
    {
        if (!_controllers.TryGetValue("cpu", out var root))
        {
            (Unified ?? throw new CgroupException(CgroupErrorKind.NotSupported, $"could not set CPU limits of {cgroup.Path}: no hierarchy at {Root} has the cpu controller"))
                .SetCpuLimits(cgroup, limits);
            return;
        }

        var dir = Path.Combine([root, .. cgroup.Segments]);
        CgroupFiles.Write(Version, root, dir, "cpu.cfs_period_us", limits.PeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        CgroupFiles.Write(Version, root, dir, "cpu.cfs_quota_us", (limits.QuotaMicroseconds ?? -1).ToString(CultureInfo.InvariantCulture));
        if (limits.Shares is { } shares)
        {
            CgroupFiles.Write(Version, root, dir, "cpu.shares", shares.ToString(CultureInfo.InvariantCulture));
        }
    }

    internal override CgroupCpuLimits? ReadCpuLimits(Cgroup cgroup)
    {
        if (V1Directory(cgroup, "cpu") is not { } dir)
        {
            return Unified?.ReadCpuLimits(cgroup);
        }

        if (!long.TryParse(CgroupFiles.ReadValue(dir, "cpu.cfs_quota_us"), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var quota)
            || CgroupFiles.ReadNumber(dir, "cpu.cfs_period_us") is not { } period)
        {
            return null;
        }

        return new CgroupCpuLimits(quota < 0 ? null : quota, (long)period, CgroupFiles.ReadNumber(dir, "cpu.shares"));
    }

    internal override CgroupCpuUsage? ReadCpuUsage(Cgroup cgroup)
    {
        if (V1Directory(cgroup, "cpuacct") is not { } dir)
        {
            return UnifiedDirectory(cgroup) is { } unified ? CgroupV2.ReadCpuUsage(unified) : null;
        }

        var stat = CgroupFiles.ReadKeyed(dir, "cpuacct.stat");
        var usage = new CgroupCpuUsage(CgroupFiles.ReadNumber(dir, "cpuacct.usage"), CgroupFiles.Get(stat, "user") * NanosecondsPerTick,
            CgroupFiles.Get(stat, "system") * NanosecondsPerTick, CgroupFiles.Get(CgroupFiles.ReadKeyed(V1Directory(cgroup, "cpu"), "cpu.stat"), "nr_throttled"));
        return usage is { UsageNanoseconds: null, UserNanoseconds: null, SystemNanoseconds: null, ThrottledPeriods: null } ? null : usage;
    }

    internal override CgroupMemoryUsage? ReadMemoryUsage(Cgroup cgroup)
    {
        if (V1Directory(cgroup, "memory") is not { } dir)
        {
            return UnifiedDirectory(cgroup) is { } unified ? CgroupV2.ReadMemoryUsage(unified) : null;
        }

        var stat = CgroupFiles.ReadKeyed(dir, "memory.stat");
        var usage = new CgroupMemoryUsage(CgroupFiles.ReadNumber(dir, "memory.usage_in_bytes"), CgroupFiles.ReadNumber(dir, "memory.max_usage_in_bytes"),
            CgroupFiles.Get(stat, "total_rss") ?? CgroupFiles.Get(stat, "rss"));
        return usage is { CurrentBytes: null, PeakBytes: null, AnonymousBytes: null } ? null : usage;
    }

    internal override ulong? ReadMemoryLimit(Cgroup cgroup) => V1Directory(cgroup, "memory") is { } dir
        ? CgroupFiles.ReadNumber(dir, "memory.limit_in_bytes") is { } limit && limit < UnlimitedMemory ? limit : null
        : Unified?.ReadMemoryLimit(cgroup);

    internal override CgroupIoUsage? ReadIoUsage(Cgroup cgroup)
    {
        if (V1Directory(cgroup, "blkio") is not { } dir)
        {
            return UnifiedDirectory(cgroup) is { } unified ? CgroupV2.ReadIoUsage(unified) : null;
        }

        var (readBytes, writeBytes) = ReadBlkio(dir, "blkio.throttle.io_service_bytes");
        var (reads, writes) = ReadBlkio(dir, "blkio.throttle.io_serviced");
        var usage = new CgroupIoUsage(readBytes, writeBytes, reads, writes);
        return usage is { ReadBytes: null, WriteBytes: null, Reads: null, Writes: null } ? null : usage;
    }

    internal override ulong? ReadOomKills(Cgroup cgroup) => V1Directory(cgroup, "memory") is { } dir
        ? CgroupFiles.Get(CgroupFiles.ReadKeyed(dir, "memory.oom_control"), "oom_kill")
        : UnifiedDirectory(cgroup) is { } unified ? CgroupV2.ReadOomKills(unified) : null;

    internal override void SetFrozen(Cgroup cgroup, bool frozen)
    {
        if (!_controllers.TryGetValue("freezer", out var root))
        {
            (Unified ?? throw new CgroupException(CgroupErrorKind.NotSupported, $"could not freeze {cgroup.Path}: no hierarchy at {Root} has the freezer controller"))
                .SetFrozen(cgroup, frozen);
            return;
        }

        CgroupFiles.Write(Version, root, Path.Combine([root, .. cgroup.Segments]), "freezer.state", frozen ? "FROZEN" : "THAWED");
    }

    internal override bool? ReadFrozen(Cgroup cgroup) => V1Directory(cgroup, "freezer") is { } dir
        ? CgroupFiles.ReadValue(dir, "freezer.state") is { } state ? state == "FROZEN" : null
        : Unified?.ReadFrozen(cgroup);

    internal override bool TryKill(Cgroup cgroup) => false; // v1 has no cgroup.kill

    /// <summary>The Read and Write lines of a <c>blkio.throttle.*</c> file summed over devices (Total lines not counted).</summary>
    private static (ulong? Read, ulong? Write) ReadBlkio(string directory, string file)
    {
        if (CgroupFiles.ReadLines(directory, file) is not { } lines)
        {
            return (null, null);
        }

        ulong read = 0, write = 0;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || CgroupFiles.Parse(fields[2]) is not { } value)
            {
                continue;
            }

            switch (fields[1])
            {
                case "Read": read += value; break;
                case "Write": write += value; break;
            }
        }

        return (read, write);
    }
}
