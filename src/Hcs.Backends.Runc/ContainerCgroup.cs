// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Reads a container's cgroup (the <c>cgroupsPath</c> runc was given, e.g. <c>/hcs/ID</c>, relative to each hierarchy's
/// root) for statistics, its process list and its OOM kills. Each v1 controller is read from the v1 hierarchy that holds
/// it (<c>/sys/fs/cgroup/&lt;controller&gt;</c> on this project's hybrid host); a controller with no v1 hierarchy is read
/// from the cgroup2 mount. Missing or unreadable files give null members (statistics) or empty/zero answers, never
/// exceptions. Units: processor times in 100 ns, sizes in bytes.
/// </summary>
internal sealed class ContainerCgroup
{
    private const ulong UserHz = 100;

    private static readonly string[] s_v1Controllers = ["cpu", "cpuacct", "cpuset", "memory", "blkio", "pids", "devices", "freezer", "hugetlb", "net_cls", "net_prio", "perf_event", "rdma", "misc"];

    private static readonly string[] s_pidsControllers = ["pids", "memory", "cpu", "cpuacct"];

    private readonly Dictionary<string, string> _v1;
    private readonly string? _v2;
    private readonly List<string> _all;

    private ContainerCgroup(string path, Dictionary<string, string> v1, string? v2, List<string> all)
    {
        Path = path;
        _v1 = v1;
        _v2 = v2;
        _all = all;
    }

    /// <summary>The cgroup path as given (relative to each hierarchy's root), e.g. <c>/hcs/ID</c>.</summary>
    public string Path { get; }

    /// <summary>The directory of <paramref name="controller"/>'s cgroup: its v1 hierarchy's, else the cgroup2 one; null if neither is mounted.</summary>
    public string? Directory(string controller) => _v1.TryGetValue(controller, out var dir) ? dir : _v2;

    /// <summary>This cgroup's directory in every mounted hierarchy (v1 hierarchies co-mounting controllers counted once).</summary>
    /// <remarks>Named v1 hierarchies without a controller (<c>name=systemd</c>) are included: runc makes the cgroup there too.</remarks>
    public IEnumerable<string> Directories => _all.Distinct(StringComparer.Ordinal);

    /// <summary>Finds the hierarchies in <paramref name="mountInfoPath"/> (an unreadable file: none).</summary>
    public static ContainerCgroup Find(string cgroupsPath, string mountInfoPath = "/proc/self/mountinfo")
    {
        ArgumentNullException.ThrowIfNull(cgroupsPath);
        var segments = cgroupsPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0 || segments.Any(s => s is "." or ".."))
        {
            throw new ArgumentException($"'{cgroupsPath}' is not a cgroup path below the hierarchy roots", nameof(cgroupsPath));
        }

        string text;
        try
        {
            text = File.ReadAllText(mountInfoPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text = "";
        }

        var v1 = new Dictionary<string, string>(StringComparer.Ordinal);
        string? v2 = null;
        var all = new List<string>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (dash < 5 || dash + 3 >= fields.Length)
            {
                continue;
            }

            var root = LinuxHost.UnescapeMountInfo(fields[3]);
            var directory = Directory(LinuxHost.UnescapeMountInfo(fields[4]), root, segments);
            if (fields[dash + 1] is "cgroup" or "cgroup2")
            {
                all.Add(directory);
            }

            switch (fields[dash + 1])
            {
                case "cgroup":
                    foreach (var option in fields[dash + 3].Split(','))
                    {
                        if (s_v1Controllers.Contains(option))
                        {
                            v1.TryAdd(option, directory);
                        }
                    }

                    break;
                case "cgroup2":
                    v2 ??= directory;
                    break;
            }
        }

        return new ContainerCgroup("/" + string.Join('/', segments), v1, v2, all);
    }

    /// <summary>
    /// Processor time: v1 <c>cpuacct.usage</c> (ns) / 100 and <c>cpuacct.stat</c> user/system (USER_HZ = 100 ticks)
    /// × 100000; v2 <c>cpu.stat</c> <c>usage_usec</c>/<c>user_usec</c>/<c>system_usec</c> × 10. Null when nothing could be read.
    /// </summary>
    public ProcessorStats? ReadProcessor()
    {
        ulong? total, user, kernel;
        if (_v1.TryGetValue("cpuacct", out var cpuacct))
        {
            total = ReadNumber(cpuacct, "cpuacct.usage") / 100;
            var stat = ReadKeyed(cpuacct, "cpuacct.stat");
            user = Get(stat, "user") * (10_000_000 / UserHz);
            kernel = Get(stat, "system") * (10_000_000 / UserHz);
        }
        else if (_v2 is { } v2)
        {
            var stat = ReadKeyed(v2, "cpu.stat");
            total = Get(stat, "usage_usec") * 10;
            user = Get(stat, "user_usec") * 10;
            kernel = Get(stat, "system_usec") * 10;
        }
        else
        {
            return null;
        }

        return total is null && user is null && kernel is null
            ? null
            : new ProcessorStats { TotalRuntime100ns = total, RuntimeUser100ns = user, RuntimeKernel100ns = kernel };
    }

    /// <summary>
    /// Memory: v1 <c>memory.usage_in_bytes</c> (commit), <c>memory.max_usage_in_bytes</c> (peak), <c>memory.stat</c>
    /// <c>total_rss</c> or <c>rss</c> (private working set); v2 <c>memory.current</c>, <c>memory.peak</c> (kernel ≥ 5.19),
    /// <c>memory.stat</c> <c>anon</c>. Null when nothing could be read.
    /// </summary>
    public MemoryStats? ReadMemory()
    {
        ulong? commit, peak, privateSet;
        if (_v1.TryGetValue("memory", out var memory))
        {
            commit = ReadNumber(memory, "memory.usage_in_bytes");
            peak = ReadNumber(memory, "memory.max_usage_in_bytes");
            var stat = ReadKeyed(memory, "memory.stat");
            privateSet = Get(stat, "total_rss") ?? Get(stat, "rss");
        }
        else if (_v2 is { } v2)
        {
            commit = ReadNumber(v2, "memory.current");
            peak = ReadNumber(v2, "memory.peak");
            privateSet = Get(ReadKeyed(v2, "memory.stat"), "anon");
        }
        else
        {
            return null;
        }

        return commit is null && peak is null && privateSet is null
            ? null
            : new MemoryStats { MemoryUsageCommitBytes = commit, MemoryUsageCommitPeakBytes = peak, MemoryUsagePrivateWorkingSetBytes = privateSet };
    }

    /// <summary>
    /// Block I/O: v1 <c>blkio.throttle.io_service_bytes</c> and <c>blkio.throttle.io_serviced</c>, the Read and Write
    /// lines summed over devices (the per-device and overall Total lines are not counted); v2 <c>io.stat</c>
    /// <c>rbytes</c>/<c>wbytes</c>/<c>rios</c>/<c>wios</c> summed over devices. The counts are plain operation counts.
    /// Null when nothing could be read.
    /// </summary>
    public StorageStats? ReadStorage()
    {
        ulong? readBytes, writeBytes, reads, writes;
        if (_v1.TryGetValue("blkio", out var blkio))
        {
            (readBytes, writeBytes) = ReadBlkio(blkio, "blkio.throttle.io_service_bytes");
            (reads, writes) = ReadBlkio(blkio, "blkio.throttle.io_serviced");
        }
        else if (_v2 is { } v2 && ReadLines(v2, "io.stat") is { } lines)
        {
            readBytes = writeBytes = reads = writes = 0;
            foreach (var line in lines)
            {
                foreach (var pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1))
                {
                    var eq = pair.IndexOf('=', StringComparison.Ordinal);
                    if (eq < 0 || !ulong.TryParse(pair.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
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
        }
        else
        {
            return null;
        }

        return readBytes is null && writeBytes is null && reads is null && writes is null
            ? null
            : new StorageStats { ReadSizeBytes = readBytes, WriteSizeBytes = writeBytes, ReadCountNormalized = reads, WriteCountNormalized = writes };
    }

    /// <summary>The host pids in the cgroup (<c>cgroup.procs</c> of the pids, memory, cpu or cpuacct hierarchy, else cgroup2); empty when unreadable.</summary>
    public IReadOnlyList<int> ReadPids()
    {
        foreach (var directory in s_pidsControllers.Select(c => _v1.GetValueOrDefault(c)).Append(_v2))
        {
            if (directory is not null && ReadLines(directory, "cgroup.procs") is { } lines)
            {
                return [.. lines.Select(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(p => p > 0)];
            }
        }

        return [];
    }

    /// <summary>Processes killed by the OOM killer in this cgroup: v1 <c>memory.oom_control</c> <c>oom_kill</c> (kernel ≥ 4.13), v2 <c>memory.events</c> <c>oom_kill</c>; 0 when unknown.</summary>
    public ulong ReadOomKills() =>
        (_v1.TryGetValue("memory", out var memory)
            ? Get(ReadKeyed(memory, "memory.oom_control"), "oom_kill")
            : _v2 is { } v2 ? Get(ReadKeyed(v2, "memory.events"), "oom_kill") : null) ?? 0;

    private static string Directory(string mountPoint, string root, string[] segments)
    {
        // A hierarchy whose root is not "/" (a cgroup namespace, a bind of a sub-tree) is a view of the sub-tree "root".
        var rootSegments = root.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var relative = rootSegments.Length > 0 && segments.Length >= rootSegments.Length && segments.Take(rootSegments.Length).SequenceEqual(rootSegments)
            ? segments[rootSegments.Length..]
            : segments;
        return System.IO.Path.Combine([mountPoint, .. relative]);
    }

    private static (ulong? Read, ulong? Write) ReadBlkio(string directory, string file)
    {
        if (ReadLines(directory, file) is not { } lines)
        {
            return (null, null);
        }

        ulong read = 0, write = 0;
        foreach (var line in lines)
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || !ulong.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
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

    private static ulong? Get(Dictionary<string, ulong>? values, string key) => values is not null && values.TryGetValue(key, out var v) ? v : null;

    private static ulong? ReadNumber(string directory, string file) =>
        ReadLines(directory, file) is [var first, ..] && ulong.TryParse(first.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>A flat-keyed file (<c>key value</c> per line); null when unreadable.</summary>
    private static Dictionary<string, ulong>? ReadKeyed(string directory, string file)
    {
        if (ReadLines(directory, file) is not { } lines)
        {
            return null;
        }

        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && ulong.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                values.TryAdd(fields[0], value);
            }
        }

        return values;
    }

    private static string[]? ReadLines(string directory, string file)
    {
        try
        {
            return File.ReadAllLines(System.IO.Path.Combine(directory, file)).Where(l => l.Length > 0).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
