// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// Microsoft's seed sample (the HCS "event callback" sample). Its text is not in the tree: the code part is extracted
/// at test time from <c>$HCS_SEED</c>, else <c>shared/seed/event-callback-sample.txt</c> in the nearest directory above the repository,
/// and compiled unchanged inside <c>samples/c/seed/seed_main.cpp</c>.
/// </summary>
public static class SeedSample
{
    /// <summary>The line the sample's code starts with; everything from it to the end of the file is the code.</summary>
    public const string FirstLine = "constexpr auto c_EmptyVM = LR\"(";

    /// <summary>The seed file.</summary>
    public static string SourcePath => Environment.GetEnvironmentVariable("HCS_SEED") is { Length: > 0 } path ? path : Beside();

    /// <summary><c>shared/seed/event-callback-sample.txt</c> in the nearest directory above the repository that has one.</summary>
    private static string Beside()
    {
        var first = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "seed", "event-callback-sample.txt"));
        for (var dir = new DirectoryInfo(Repository.Root).Parent; dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "seed", "event-callback-sample.txt");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return first;
    }

    /// <summary>The wrapper program: includes the three headers, then the extracted code inside <c>main</c>.</summary>
    public static string Wrapper => Repository.Path("samples", "c", "seed", "seed_main.cpp");

    /// <summary>
    /// Writes the sample's code as <c>event-callback-sample.inc</c> into a new directory below
    /// <paramref name="parent"/> and returns that directory (pass it with <c>-I</c> when compiling <see cref="Wrapper"/>).
    /// Fails the test, naming the path, when the seed file is missing or has no code part.
    /// </summary>
    public static string ExtractCode(string parent)
    {
        var source = SourcePath;
        Assert.True(File.Exists(source), $"the seed sample is missing: {source} (set HCS_SEED to the event-callback sample's text)");
        var lines = File.ReadAllLines(source);
        var first = Array.FindIndex(lines, l => l.StartsWith(FirstLine, StringComparison.Ordinal));
        Assert.True(first >= 0, $"{source} has no line starting with '{FirstLine}'");
        var directory = Directory.CreateDirectory(Path.Combine(parent, $"seed-{Guid.NewGuid():N}")).FullName;
        File.WriteAllLines(Path.Combine(directory, "event-callback-sample.inc"), lines[first..]);
        return directory;
    }
}
