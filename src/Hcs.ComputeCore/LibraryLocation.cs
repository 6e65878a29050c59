// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Engine.Backends;

namespace Hcs.ComputeCore;

/// <summary>
/// Where this library was loaded from, and the hcs-shim that goes with it. The embedded engine's default lookup starts
/// from the executable's directory (<see cref="AppContext.BaseDirectory"/>), which for a shared library is the host
/// program's (python3's, a test program's in /tmp): the library looks next to itself first.
/// </summary>
internal static unsafe class LibraryLocation
{
    /// <summary>
    /// hcs-shim for the embedded engine: the one lookup (<see cref="LinuxHost.LocateShim(string?, string, string)"/>:
    /// <c>$HCS_SHIM</c>, beside, the nearest <c>artifacts/shim</c> above, the installed path) started from this
    /// library's directory instead of the program's; null when nothing is found there or the library's directory is
    /// unknown (the engine's default lookup then applies, and its error names the places looked in).
    /// </summary>
    public static string? Shim() =>
        Directory() is { } directory
            ? LinuxHost.LocateShim(Environment.GetEnvironmentVariable(LinuxHost.ShimVariable), directory, LinuxHost.InstalledShimPath).Path
            : null;

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
