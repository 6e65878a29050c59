// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text;

namespace Hcs.ComputeCore.Tests;

/// <summary>What a native program did: its exit code (negative: killed by that signal), stdout and stderr.</summary>
public sealed record NativeRun(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>
/// Compiles C and C++ against <c>include/</c> and <c>artifacts/computecore/libcomputecore.so</c> with the system's gcc
/// and g++, and runs the programs with an environment of the test's choosing. Every argument is passed as its own
/// argv entry (no shell).
/// </summary>
public static class NativeToolchain
{
    /// <summary>The headers (<c>include/</c>).</summary>
    public static string Include => Repository.Path("include");

    /// <summary>Where build.sh publishes the library.</summary>
    public static string LibraryDirectory => Repository.Path("artifacts", "computecore");

    /// <summary>The published library.</summary>
    public static string Library => Path.Combine(LibraryDirectory, "libcomputecore.so");

    /// <summary>Where compiled test programs go (one directory per test run).</summary>
    public static string OutputDirectory { get; } = Directory.CreateTempSubdirectory("hcs-c-").FullName;

    /// <summary>Skips (or fails under <c>HCS_TEST_REQUIRE_ALL</c>) unless gcc, g++ and the published library are there.</summary>
    public static void RequireLibrary()
    {
        Requires.Check(File.Exists("/usr/bin/gcc") && File.Exists("/usr/bin/g++"), "gcc and g++ (apt-get install gcc g++, or ./build.sh setup)");
        Requires.Check(File.Exists(Library), $"{Library} (./build.sh build publishes it)");
    }

    /// <summary>
    /// Compiles <paramref name="sources"/> (C when every source ends in <c>.c</c>, else C++) into an executable linked
    /// with libcomputecore (rpath set, so it runs without LD_LIBRARY_PATH); returns its path. Fails the test with the
    /// compiler's output when it does not compile.
    /// </summary>
    /// <param name="name">The executable's file name.</param>
    /// <param name="sources">Source files.</param>
    /// <param name="flags">Extra compiler flags (e.g. <c>-fsanitize=address,undefined</c>).</param>
    public static async Task<string> BuildAsync(string name, IEnumerable<string> sources, params string[] flags)
    {
        var files = sources.ToArray();
        var cxx = files.Any(f => !f.EndsWith(".c", StringComparison.Ordinal));
        var output = Path.Combine(OutputDirectory, name);
        string[] args =
        [
            cxx ? "-std=c++17" : "-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-I", Include, .. flags, "-o", output, .. files,
            "-L", LibraryDirectory, "-Wl,-rpath," + LibraryDirectory, "-lcomputecore", "-lpthread",
        ];
        var run = await RunAsync(cxx ? "/usr/bin/g++" : "/usr/bin/gcc", args, timeout: TimeSpan.FromMinutes(3));
        Xunit.Assert.True(run.ExitCode == 0, $"{(cxx ? "g++" : "gcc")} {string.Join(' ', args)}\n{run}");
        return output;
    }

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/>, <paramref name="environment"/> added to this
    /// process's environment (a null value removes a variable) and <paramref name="stdin"/> as its input; kills it
    /// after <paramref name="timeout"/> (default 5 minutes) and fails the test then.
    /// </summary>
    public static async Task<NativeRun> RunAsync(string program, IEnumerable<string>? args = null,
        IReadOnlyDictionary<string, string?>? environment = null, string? stdin = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args ?? [])
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Xunit.Assert.Fail($"{program} did not exit within {timeout ?? TimeSpan.FromMinutes(5)}\n{new NativeRun(process.ExitCode, await output, await error)}");
        }

        return new NativeRun(process.ExitCode, await output, await error);
    }
}
