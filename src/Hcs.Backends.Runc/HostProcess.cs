// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;

namespace Hcs.Backends.Runc;

/// <summary>
/// A host process that need not be our child (a monitor started by an earlier life of the service), named by pid and
/// start time (field 22 of <c>/proc/PID/stat</c>), so a pid the kernel gave to another process since is never taken for
/// it. Read from procfs; signals go through <see cref="Process.Kill()"/>, no P/Invoke.
/// </summary>
/// <param name="Pid">The pid.</param>
/// <param name="StartTime">Clock ticks after boot at which it started.</param>
internal readonly record struct HostProcess(int Pid, ulong StartTime)
{
    /// <summary>The process with pid <paramref name="pid"/> as it is now; null when there is none or it is a zombie.</summary>
    public static HostProcess? Of(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        string stat;
        try
        {
            stat = File.ReadAllText(Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // pid (comm) state ppid … : comm may hold spaces and parentheses, so fields are counted after the last ')'.
        var close = stat.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        if (fields.Length < 20 || fields[0] is "Z" or "X" || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return new HostProcess(pid, start);
    }

    /// <summary>True while this very process runs (same pid, same start time, not a zombie).</summary>
    public bool IsAlive => Of(Pid) is { } now && now.StartTime == StartTime;

    /// <summary>SIGKILL, if it is still this process. (A pid reused between the check and the kill is a window of microseconds.)</summary>
    public void Kill()
    {
        if (!IsAlive)
        {
            return;
        }

        try
        {
            using var process = Process.GetProcessById(Pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone meanwhile.
        }
    }

    /// <summary>Waits up to <paramref name="bound"/> for it to end (it is not our child, so this polls procfs every 20 ms).</summary>
    public async Task<bool> WaitGoneAsync(TimeSpan bound, TimeProvider time)
    {
        var deadline = time.GetTimestamp() + (long)(bound.TotalSeconds * time.TimestampFrequency);
        while (IsAlive)
        {
            if (time.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Every <c>hcs-shim monitor</c> on the host whose runtime directory (<c>--state</c>) is directly under
    /// <paramref name="runtimeRoot"/>, by that directory.
    /// </summary>
    public static Dictionary<string, HostProcess> Monitors(string runtimeRoot)
    {
        var found = new Dictionary<string, HostProcess>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string[] args;
            try
            {
                args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // Gone meanwhile.
            }

            if (args.Length < 3 || args[1] != "monitor" || Path.GetFileName(args[0]) != "hcs-shim")
            {
                continue;
            }

            // Option and value pairs, as the monitor reads them: an id may itself be spelt "--state".
            string? state = null;
            for (var i = 2; i + 1 < args.Length; i += 2)
            {
                if (args[i] == "--state")
                {
                    state = args[i + 1];
                }
            }

            if (state is not null && Path.GetDirectoryName(state) == runtimeRoot.TrimEnd('/') && Of(pid) is { } process)
            {
                found[state] = process;
            }
        }

        return found;
    }
}
