// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;

namespace Hcs.Engine.Backends;

/// <summary>Host facts the Linux backends share: where hcs-shim is, and how <c>/proc/self/mountinfo</c> spells paths.</summary>
public static class LinuxHost
{
    /// <summary>Where an installed hcs puts hcs-shim, used when no build of it is found near the running program.</summary>
    public const string InstalledShimPath = "/usr/libexec/hcs/hcs-shim";

    /// <summary>
    /// hcs-shim (QEMU launcher, container monitor and init): the NativeAOT build beside the running program (not a
    /// managed <c>hcs-shim.dll</c> apphost), else the nearest <c>artifacts/shim/hcs-shim</c> above it (a source tree),
    /// else <see cref="InstalledShimPath"/>.
    /// </summary>
    public static string LocateShim()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "hcs-shim");
        if (File.Exists(beside) && !File.Exists(beside + ".dll"))
        {
            return beside;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "artifacts", "shim", "hcs-shim");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return InstalledShimPath;
    }

    /// <summary>A path field of <c>/proc/PID/mountinfo</c> as a path: the kernel escapes space, tab, newline and backslash as <c>\ooo</c> octal.</summary>
    public static string UnescapeMountInfo(string field)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
            {
                text.Append((char)(((field[i + 1] - '0') * 64) + ((field[i + 2] - '0') * 8) + (field[i + 3] - '0')));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}
