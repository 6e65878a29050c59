// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Linux;

/// <summary>
/// What <c>/proc/PID/stat</c> says about a process: its state (field 3) and its start time (field 22, clock ticks
/// after boot). The one reader of that file. A process whose state is <see cref="IsZombie"/> has exited: it is
/// dead to hcs even while <c>/proc/PID</c> still exists (its parent, PID 1 for an orphan, has not reaped it yet).
/// </summary>
/// <param name="State">The state letter (R, S, D, T, t, Z, X, x, I, …).</param>
/// <param name="StartTime">Clock ticks after boot at which it started: with the pid, it names one process for good.</param>
public readonly record struct ProcessStat(char State, ulong StartTime)
{
    /// <summary>True when the process has exited: state <c>Z</c> (zombie), <c>X</c> or <c>x</c> (dead).</summary>
    public bool IsZombie => State is 'Z' or 'X' or 'x';

    /// <summary>Reads <c>/proc/PID/stat</c>; null when there is no such process (or the file cannot be read or parsed).</summary>
    public static ProcessStat? Read(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        try
        {
            return Parse(File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Parses the text of a <c>/proc/PID/stat</c> file; null when it is not one. The command name (field 2) is in
    /// parentheses and may hold anything, spaces and <c>)</c> included, so fields are counted after the last <c>)</c>.
    /// </summary>
    public static ProcessStat? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 19 && fields[0].Length == 1
            && ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            ? new ProcessStat(fields[0][0], start)
            : null;
    }
}
