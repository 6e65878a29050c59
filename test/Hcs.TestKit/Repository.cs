// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.TestKit;

/// <summary>The source tree the test assemblies were built in (where build.sh puts artifacts/).</summary>
public static class Repository
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The repository's root directory: the nearest one above this assembly that holds guest/build.sh.</summary>
    public static string Root => s_root.Value;

    /// <summary>A path below <see cref="Root"/>.</summary>
    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "guest", "build.sh")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"repository root not found above {AppContext.BaseDirectory}");
    }
}
