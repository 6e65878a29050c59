// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;

namespace Hcs.Linux;

/// <summary>
/// One line of <c>/proc/PID/mountinfo</c> (proc(5)):
/// <c>36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue</c>. Paths are unescaped
/// (<see cref="MountInfo.Unescape"/>).
/// </summary>
/// <param name="MountId">Field 1: the mount's id.</param>
/// <param name="ParentId">Field 2: the parent mount's id.</param>
/// <param name="Device">Field 3: <c>major:minor</c> of the file system's device.</param>
/// <param name="Root">Field 4: the directory of the file system that is mounted (a cgroup's path, a bind's source).</param>
/// <param name="MountPoint">Field 5: where it is mounted, relative to the reading process's root.</param>
/// <param name="MountOptions">Field 6: per-mount options (<c>rw</c>, <c>nosuid</c>, …).</param>
/// <param name="OptionalFields">The zero or more <c>tag[:value]</c> fields before the <c>-</c> separator (<c>shared:1</c>, <c>master:2</c>).</param>
/// <param name="FileSystemType">The file system type after the separator (<c>ext4</c>, <c>cgroup2</c>, <c>overlay</c>).</param>
/// <param name="Source">The mount source (a device, <c>none</c>, <c>overlay</c>).</param>
/// <param name="SuperOptions">The per-superblock options (for a cgroup v1 hierarchy, its controllers among them).</param>
public sealed record MountInfoEntry(int MountId, int ParentId, string Device, string Root, string MountPoint, string MountOptions,
    IReadOnlyList<string> OptionalFields, string FileSystemType, string Source, string SuperOptions)
{
    /// <summary>The per-superblock options one by one (split at commas).</summary>
    public IReadOnlyList<string> SuperOptionList => SuperOptions.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>The one parser of <c>/proc/PID/mountinfo</c>: the mount table as <see cref="MountInfoEntry"/> lines.</summary>
public static class MountInfo
{
    /// <summary>This process's mount table.</summary>
    public const string SelfPath = "/proc/self/mountinfo";

    /// <summary>
    /// Reads and parses <paramref name="path"/> (default <see cref="SelfPath"/>); lines that are not mountinfo lines are
    /// skipped. Null when the file cannot be read.
    /// </summary>
    public static IReadOnlyList<MountInfoEntry>? Read(string path = SelfPath)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return ParseTable(text);
    }

    /// <summary>Parses the text of a mountinfo file, line by line; lines that are not mountinfo lines are skipped.</summary>
    public static IReadOnlyList<MountInfoEntry> ParseTable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<MountInfoEntry>();
        foreach (var line in text.Split('\n'))
        {
            if (Parse(line) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <summary>
    /// Parses one line; null when it is not a mountinfo line (fewer than six fields before the <c>-</c> separator,
    /// no separator, fewer than three fields after it, or ids that are not numbers).
    /// </summary>
    public static MountInfoEntry? Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var fields = line.TrimEnd('\r').Split(' ');
        var separator = fields.Length < 10 ? -1 : Array.IndexOf(fields, "-", 6);
        if (separator < 0 || fields.Length - separator < 4
            || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)
            || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent))
        {
            return null;
        }

        return new MountInfoEntry(id, parent, fields[2], Unescape(fields[3]), Unescape(fields[4]), fields[5], fields[6..separator],
            fields[separator + 1], Unescape(fields[separator + 2]), fields[separator + 3]);
    }

    /// <summary>
    /// A path field of mountinfo as a path: the kernel writes space, tab, newline and backslash as <c>\ooo</c> octal
    /// (<c>\040</c>, <c>\011</c>, <c>\012</c>, <c>\134</c>); the escaped bytes are UTF-8.
    /// </summary>
    public static string Unescape(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        var utf8 = Encoding.UTF8.GetBytes(field);
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == '\\' && i + 3 < utf8.Length && IsOctal(utf8[i + 1]) && IsOctal(utf8[i + 2]) && IsOctal(utf8[i + 3]))
            {
                bytes.Add((byte)(((utf8[i + 1] - '0') * 64) + ((utf8[i + 2] - '0') * 8) + (utf8[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(utf8[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>
    /// Mount points at or below <paramref name="directory"/> in <paramref name="table"/>, in mount order and each once
    /// (unmount them in reverse).
    /// </summary>
    public static IReadOnlyList<string> PointsUnder(IEnumerable<MountInfoEntry> table, string directory)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(directory);
        var root = directory.TrimEnd('/');
        var found = new List<string>();
        foreach (var entry in table)
        {
            var point = entry.MountPoint;
            if ((point == root || point.StartsWith(root + "/", StringComparison.Ordinal)) && !found.Contains(point))
            {
                found.Add(point);
            }
        }

        return found;
    }

    private static bool IsOctal(byte c) => c is >= (byte)'0' and <= (byte)'7';
}
