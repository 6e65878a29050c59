// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// A container's process list (<c>ProcessList</c> property) from procfs. For each host pid: <c>ProcessId</c> = the
/// pid inside the container's pid namespace (last number of <c>NSpid:</c> in <c>/proc/PID/status</c>; the host pid
/// when the kernel has no <c>NSpid</c>), <c>ImageName</c> = <c>/proc/PID/comm</c>, <c>CreateTimestamp</c> = boot time
/// (<c>btime</c> of <c>/proc/stat</c>) + start time (field 22 of <c>/proc/PID/stat</c>, USER_HZ = 100 ticks),
/// <c>UserTime100ns</c>/<c>KernelTime100ns</c> = utime/stime (fields 14/15) × 100000, <c>MemoryCommitBytes</c> =
/// <c>VmSize</c>, <c>MemoryWorkingSetPrivateBytes</c> = <c>RssAnon</c>, <c>MemoryWorkingSetSharedBytes</c> =
/// <c>RssFile</c> + <c>RssShmem</c> (kB × 1024). <c>/proc/PID/stat</c> is parsed after its last <c>)</c> because the
/// command name may contain spaces and parentheses. A process that vanished while being read is left out.
/// </summary>
internal static class ProcessTable
{
    private const ulong UserHz = 100;

    /// <summary>The details of each process of <paramref name="hostPids"/> that still exists, in that order.</summary>
    public static IReadOnlyList<ProcessDetails> Read(IReadOnlyList<int> hostPids, string procRoot = "/proc")
    {
        ArgumentNullException.ThrowIfNull(hostPids);
        var bootTime = BootTime(procRoot);
        var list = new List<ProcessDetails>(hostPids.Count);
        foreach (var pid in hostPids)
        {
            if (ReadOne(pid, procRoot, bootTime) is { } details)
            {
                list.Add(details);
            }
        }

        return list;
    }

    /// <summary>The pid of host process <paramref name="hostPid"/> inside its innermost pid namespace; null when it is gone or the kernel does not say.</summary>
    public static uint? NamespacePid(int hostPid, string procRoot = "/proc") =>
        ReadText(Path.Combine(procRoot, hostPid.ToString(CultureInfo.InvariantCulture), "status")) is { } status ? NsPid(status) : null;

    private static ProcessDetails? ReadOne(int pid, string procRoot, DateTimeOffset? bootTime)
    {
        var dir = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture));
        var stat = ReadText(Path.Combine(dir, "stat"));
        var status = ReadText(Path.Combine(dir, "status"));
        var comm = ReadText(Path.Combine(dir, "comm"));
        if (stat is null || status is null)
        {
            return null;
        }

        // Fields after "pid (comm) ": state is field 3, so field N is at index N - 3.
        var close = stat.LastIndexOf(')');
        var fields = close < 0 ? [] : stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ulong? Field(int n) => fields.Length > n - 3 && ulong.TryParse(fields[n - 3], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;

        var startTicks = Field(22);
        var memory = StatusKb(status);
        return new ProcessDetails
        {
            ProcessId = NsPid(status) ?? (uint)pid,
            ImageName = comm?.TrimEnd('\n') ?? (close > 0 && stat.IndexOf('(', StringComparison.Ordinal) is var open and >= 0 ? stat[(open + 1)..close] : null),
            CreateTimestamp = bootTime is { } boot && startTicks is { } ticks ? boot.AddTicks((long)(ticks * (TimeSpan.TicksPerSecond / (long)UserHz))) : null,
            UserTime100ns = Field(14) * (10_000_000 / UserHz),
            KernelTime100ns = Field(15) * (10_000_000 / UserHz),
            MemoryCommitBytes = memory.GetValueOrDefault("VmSize") * 1024,
            MemoryWorkingSetPrivateBytes = memory.GetValueOrDefault("RssAnon") * 1024,
            MemoryWorkingSetSharedBytes = memory.ContainsKey("RssFile") || memory.ContainsKey("RssShmem")
                ? (memory.GetValueOrDefault("RssFile") + memory.GetValueOrDefault("RssShmem")) * 1024
                : null,
        };
    }

    private static uint? NsPid(string status)
    {
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("NSpid:", StringComparison.Ordinal))
            {
                var last = line["NSpid:".Length..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
                return uint.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var nsPid) ? nsPid : null;
            }
        }

        return null;
    }

    /// <summary>The <c>Name:  N kB</c> lines of a status file, in kB.</summary>
    private static Dictionary<string, ulong?> StatusKb(string status)
    {
        var values = new Dictionary<string, ulong?>(StringComparer.Ordinal);
        foreach (var line in status.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !line.EndsWith(" kB", StringComparison.Ordinal))
            {
                continue;
            }

            if (ulong.TryParse(line.AsSpan(colon + 1, line.Length - colon - 1 - 3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kb))
            {
                values[line[..colon]] = kb;
            }
        }

        return values;
    }

    private static DateTimeOffset? BootTime(string procRoot)
    {
        foreach (var line in (ReadText(Path.Combine(procRoot, "stat")) ?? "").Split('\n'))
        {
            if (line.StartsWith("btime ", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(6).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            {
                return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
        }

        return null;
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process ended (ENOENT, ESRCH) or is not ours to read.
            return null;
        }
    }
}
