// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace Hcs.Backends.Qemu;

/// <summary>
/// What procfs says about a process: its state and start time (field 3 and 22 of <c>/proc/PID/stat</c>) and its
/// command line. A process that is not our child is recognised by pid + start time (a reused pid has another start
/// time) and by its command line naming our runtime directory; it is dead once <c>/proc/PID</c> is gone or it is a
/// zombie (state Z: it exited, and its parent, PID 1 for an orphan, has not reaped it yet).
/// </summary>
internal readonly record struct ProcStat(char State, ulong StartTime)
{
    public bool IsZombie => State is 'Z' or 'X' or 'x';

    /// <summary>Reads <c>/proc/PID/stat</c>; null when there is no such process.</summary>
    public static ProcStat? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may contain anything, ')' included: split after the last one.
        var close = stat.LastIndexOf(')');
        if (close < 0 || close + 2 >= stat.Length)
        {
            return null;
        }

        var fields = stat[(close + 2)..].Split(' ');
        return fields.Length > 19 && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start) && fields[0].Length == 1
            ? new ProcStat(fields[0][0], start)
            : null;
    }

    /// <summary>True while process <paramref name="pid"/> started at <paramref name="startTime"/> exists and is not a zombie.</summary>
    public static bool IsAlive(int pid, ulong startTime) => Read(pid) is { } s && s.StartTime == startTime && !s.IsZombie;

    /// <summary>The arguments of process <paramref name="pid"/> (empty when it is gone or a zombie).</summary>
    public static IReadOnlyList<string> CommandLine(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            return text.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The kernel's boot id, or null.</summary>
    public static string? BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// SIGKILL to process <paramref name="pid"/> if it is still the one started at <paramref name="startTime"/> (the
    /// start time is checked immediately before the signal; a zombie is left alone). True if the signal was sent.
    /// </summary>
    public static bool Kill(int pid, ulong startTime)
    {
        if (!IsAlive(pid, startTime))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or Win32Exception)
        {
            return false; // gone in the meantime
        }
    }

    /// <summary>
    /// Waits until process <paramref name="pid"/> started at <paramref name="startTime"/> is gone or a zombie, checking
    /// procfs every 20 ms (not our child: there is no exit notification); false after <paramref name="timeout"/>.
    /// </summary>
    public static async Task<bool> WaitGoneAsync(int pid, ulong startTime, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken = default)
    {
        var started = time.GetTimestamp();
        while (IsAlive(pid, startTime))
        {
            if (time.GetElapsedTime(started) > timeout)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
