// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using Hcs.Host;

namespace Hcs.Client.EmbedProbe;

/// <summary>The only code of the probe that names an Hcs.Host type, called after every connection (so it loads nothing early).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class EmbeddedRuntime
{
    /// <summary>Removes the embedded engines' runtime directories of this process once they are empty, as hcsctl does.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RemoveEmptyDirectories()
    {
        var root = new DirectoryInfo(EmbeddedHcs.DefaultSettings().RuntimeRoot);
        if (root.Exists && !root.EnumerateFiles("*", SearchOption.AllDirectories).Any())
        {
            root.Delete(recursive: true);
        }
    }
}
