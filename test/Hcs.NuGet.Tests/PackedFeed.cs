// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text;
using Hcs.TestKit;

namespace Hcs.NuGet.Tests;

/// <summary>
/// The two packages, packed once for the test class into a local feed of their own (a temporary directory) by
/// <c>dotnet pack -p:HcsPack=true</c>, exactly as <c>./build.sh pack</c> does.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    /// <summary>The local feed (a directory holding the .nupkg and .snupkg files).</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("hcs-nuget-feed-").FullName;

    /// <summary>The version every package must carry: the repository's VERSION file.</summary>
    public string Version { get; } = File.ReadAllText(Repository.Path("VERSION")).Trim();

    /// <summary>Path of package <paramref name="id"/>'s .nupkg (or .snupkg).</summary>
    public string Package(string id, string extension = "nupkg") => Path.Combine(Directory, $"{id}.{Version}.{extension}");

    public async ValueTask InitializeAsync()
    {
        Requires.Shim();
        foreach (var project in new[] { "Hcs.Client", "Hcs.Host" })
        {
            var (code, output) = await RunAsync(Repository.Root, "dotnet",
                ["pack", Repository.Path("src", project, project + ".csproj"), "-c", "Release", "-p:HcsPack=true", "-o", Directory, "--nologo", "-v", "quiet", "-clp:ErrorsOnly"],
                TimeSpan.FromMinutes(15));
            Assert.True(code == 0, $"dotnet pack {project} exited with {code}:\n{output}");
        }
    }

    public ValueTask DisposeAsync()
    {
        System.IO.Directory.Delete(Directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    /// <summary>Runs <paramref name="program"/> with an argument list in <paramref name="directory"/>; its exit code and output (stdout then stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, string program, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cancel.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, new StringBuilder(await output).Append(await error).ToString());
    }
}
