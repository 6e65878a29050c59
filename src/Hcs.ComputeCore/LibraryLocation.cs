// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.ComputeCore;

/// <summary>
/// Where this library was loaded from, and the hcs-shim that goes with it. The embedded engine's default lookup starts
/// from the executable's directory (<see cref="AppContext.BaseDirectory"/>), which for a shared library is the host
/// program's (python3's, a test program's in /tmp): the library looks next to itself first.
/// </summary>
internal static unsafe class LibraryLocation
{
    /// <summary>
    /// hcs-shim for the embedded engine: <c>hcs-shim</c> beside the library, else the nearest
    /// <c>artifacts/shim/hcs-shim</c> above it (a source tree); null when neither exists, or when <c>$HCS_SHIM</c> is set
    /// (the default lookup, <see cref="Hcs.Engine.Backends.LinuxHost.LocateShim()"/>, applies).
    /// </summary>
    public static string? Shim()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Hcs.Engine.Backends.LinuxHost.ShimVariable)) || Directory() is not { } directory)
        {
            return null;
        }

        var beside = Path.Combine(directory, "hcs-shim");
        if (File.Exists(beside))
        {
            return beside;
        }

        for (var dir = new DirectoryInfo(directory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "artifacts", "shim", "hcs-shim");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The directory of the file mapped at the address of one of this library's exports (from /proc/self/maps), or null.</summary>
    public static string? Directory()
    {
        var address = (ulong)(nint)(delegate* unmanaged<nint, nint>)&Exports.LocalFree;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                // start-end perms offset dev inode [path]
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 6 || fields[0].Split('-') is not [var start, var end])
                {
                    continue;
                }

                if (ulong.TryParse(start, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var from) &&
                    ulong.TryParse(end, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var to) &&
                    address >= from && address < to && fields[5].Trim() is ['/', ..] path)
                {
                    return Path.GetDirectoryName(path);
                }
            }
        }
        catch (IOException)
        {
            // No /proc: the default lookup applies.
        }

        return null;
    }
}
