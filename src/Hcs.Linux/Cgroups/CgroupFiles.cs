// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;

namespace Hcs.Linux.Cgroups;

/// <summary>
/// Reading and writing cgroup interface files. Reads never throw: a missing or unreadable file is null. Writes are one
/// <c>write(2)</c> of the whole value, as the kernel requires, to a file that exists (one is never created), and fail
/// with a <see cref="CgroupException"/>.
/// </summary>
internal static class CgroupFiles
{
    /// <summary>The non-empty lines of <paramref name="directory"/>/<paramref name="file"/>; null when unreadable.</summary>
    public static string[]? ReadLines(string? directory, string file)
    {
        if (directory is null)
        {
            return null;
        }

        try
        {
            return [.. File.ReadAllLines(Path.Combine(directory, file)).Where(l => l.Length > 0)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The first line of a single-value file, trimmed; null when unreadable or empty.</summary>
    public static string? ReadValue(string? directory, string file) => ReadLines(directory, file) is [var first, ..] ? first.Trim() : null;

    /// <summary>A single unsigned number; null when unreadable or not a number.</summary>
    public static ulong? ReadNumber(string? directory, string file) => Parse(ReadValue(directory, file));

    /// <summary>A flat-keyed file (<c>key value</c> per line, e.g. <c>cpu.stat</c>, <c>memory.stat</c>); null when unreadable.</summary>
    public static Dictionary<string, ulong>? ReadKeyed(string? directory, string file)
    {
        if (ReadLines(directory, file) is not { } lines)
        {
            return null;
        }

        var values = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && Parse(fields[1]) is { } value)
            {
                values.TryAdd(fields[0], value);
            }
        }

        return values;
    }

    /// <summary>The value of <paramref name="key"/> in a flat-keyed file read by <see cref="ReadKeyed"/>.</summary>
    public static ulong? Get(Dictionary<string, ulong>? values, string key) => values is not null && values.TryGetValue(key, out var v) ? v : null;

    /// <summary>The pids of a <c>cgroup.procs</c> file; null when unreadable.</summary>
    public static IReadOnlyList<int>? ReadPids(string? directory) =>
        ReadLines(directory, "cgroup.procs") is { } lines
            ? [.. lines.Select(l => int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(p => p > 0)]
            : null;

    /// <summary>An unsigned decimal number, or null.</summary>
    public static ulong? Parse(string? text) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;

    /// <summary>
    /// Writes <paramref name="value"/> to <paramref name="directory"/>/<paramref name="file"/>, a cgroup of the
    /// <paramref name="version"/> hierarchy mounted at <paramref name="root"/> (named when the file is missing).
    /// </summary>
    public static void Write(CgroupVersion version, string root, string directory, string file, string value)
    {
        var path = Path.Combine(directory, file);
        try
        {
            // Never created: a file the kernel does not offer is a controller that lacks it.
            using var handle = File.OpenHandle(path, FileMode.Truncate, FileAccess.Write);
            RandomAccess.Write(handle, Encoding.ASCII.GetBytes(value), 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, $"write '{value}' to {path}",
                Directory.Exists(directory) && !File.Exists(path) ? $"the {version} {Controller(file)} controller at {root} has no {file}" : null);
        }
    }

    /// <summary>
    /// The <see cref="CgroupException"/> for <paramref name="e"/> while doing <paramref name="action"/>;
    /// <paramref name="missing"/> (the reason when an interface file is absent) makes it <see cref="CgroupErrorKind.NotSupported"/>.
    /// </summary>
    public static CgroupException Failure(Exception e, string action, string? missing = null) => missing is not null
        ? new CgroupException(CgroupErrorKind.NotSupported, $"could not {action}: {missing}", e)
        : e is UnauthorizedAccessException
            ? new CgroupException(CgroupErrorKind.AccessDenied, $"could not {action}: permission denied (cgroups need root or a delegated hierarchy): {e.Message}", e)
            : new CgroupException(CgroupErrorKind.Failed, $"could not {action}: {e.Message}", e);

    private static string Controller(string file) => file.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? file[..dot] : file;
}
