// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Hcs.ComputeCore.Tests;

/// <summary>What a native program did: its exit code (negative: killed by that signal), stdout and stderr.</summary>
public sealed record NativeRun(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>How <see cref="NativeToolchain.BuildAsync(string, IEnumerable{string}, string[])"/> compiles a program.</summary>
public enum NativeFlavour
{
    /// <summary>
    /// AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer, every finding fatal: the default of every
    /// test (<see cref="NativeToolchain.SanitizerFlags"/>).
    /// </summary>
    Sanitized,

    /// <summary>No instrumentation (a benchmark, or a test that measures the plain program).</summary>
    Plain,
}

/// <summary>
/// Compiles C and C++ against <c>include/</c> and <c>artifacts/computecore/libcomputecore.so</c> with the system's gcc
/// and g++, and runs the programs with an environment of the test's choosing. Every argument is passed as its own
/// argv entry (no shell). Programs are built <see cref="NativeFlavour.Sanitized"/> unless a test asks otherwise, and
/// <see cref="RunAsync"/> fails the test on any sanitizer report in a sanitized program's standard error.
/// </summary>
public static class NativeToolchain
{
    /// <summary>
    /// The compiler flags of <see cref="NativeFlavour.Sanitized"/>: ASan + UBSan, frame pointers for the reports'
    /// stacks, and no recovery (the first finding ends the program).
    /// </summary>
    public static readonly IReadOnlyList<string> SanitizerFlags =
        ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"];

    /// <summary>The exit code of a sanitized program that a sanitizer stopped (an error, or leaks at exit).</summary>
    public const int SanitizerExitCode = 86;

    /// <summary>
    /// Leaks LeakSanitizer must not report: allocations the .NET runtime inside libcomputecore makes for itself and
    /// keeps for the life of the process, reachable only from memory LSan does not scan (the GC heap and the runtime's
    /// own mappings). Each entry names the runtime function that called malloc, never anything of the C API: a string
    /// the library returned and the program did not <c>LocalFree</c> is allocated by <c>NativeStrings.Allocate</c>
    /// called from an export and is still reported (<c>SanitizerTests</c>).
    /// </summary>
    private static readonly string[] s_leakSuppressions =
    [
        "# types, generic dictionaries and method handles the NativeAOT type loader builds at run time",
        "leak:S_P_TypeLoader_Internal_Runtime_TypeLoader_",
        "# the native half of System.Threading.LowLevelMonitor (a pthread mutex + condvar per runtime monitor)",
        "leak:SystemNative_LowLevelMonitor_Create",
        "# interface dispatch cells and generic method function pointers, cached for the process's life",
        "leak:RhNewInterfaceDispatchCell",
        "leak:S_P_CoreLib_Internal_Runtime_CompilerServices_FunctionPointerOps__GetGenericMethodFunctionPointer",
    ];

    /// <summary>Where a sanitizer report begins (ASan, LSan, a fatal signal under ASan, UBSan).</summary>
    private static readonly string[] s_reportMarkers =
        ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "AddressSanitizer:DEADLYSIGNAL", ": runtime error: ", "ERROR: UndefinedBehaviorSanitizer"];

    private static readonly ConcurrentDictionary<string, NativeFlavour> s_flavours = new(StringComparer.Ordinal);

    private static readonly Lazy<string> s_suppressions = new(WriteSuppressions);

    /// <summary>
    /// The flavour <see cref="BuildAsync(string, IEnumerable{string}, string[])"/> uses: <see cref="NativeFlavour.Sanitized"/>,
    /// or <see cref="NativeFlavour.Plain"/> when <c>HCS_C_SANITIZE=0</c> (e.g. to time the suite without the sanitizers).
    /// </summary>
    public static NativeFlavour DefaultFlavour =>
        Environment.GetEnvironmentVariable("HCS_C_SANITIZE") == "0" ? NativeFlavour.Plain : NativeFlavour.Sanitized;

    /// <summary>
    /// The sanitizer settings a sanitized program runs with (each added unless the test sets the variable itself):
    /// findings end the program with <see cref="SanitizerExitCode"/>; leak checking at exit with the runtime's own
    /// allocations suppressed; .NET's signal handlers may replace ASan's (the runtime turns SIGSEGV in managed code into
    /// NullReferenceException and hands every other fault back to ASan).
    /// </summary>
    public static IReadOnlyDictionary<string, string> SanitizerEnvironment => new Dictionary<string, string>
    {
        ["ASAN_OPTIONS"] = $"halt_on_error=1:abort_on_error=0:exitcode={SanitizerExitCode}:detect_leaks=1:allow_user_segv_handler=1",
        ["UBSAN_OPTIONS"] = $"halt_on_error=1:print_stacktrace=1:exitcode={SanitizerExitCode}",
        ["LSAN_OPTIONS"] = $"suppressions={s_suppressions.Value}:print_suppressions=0:exitcode={SanitizerExitCode}",
    };

    private static string WriteSuppressions()
    {
        var path = Path.Combine(OutputDirectory, "lsan.supp");
        File.WriteAllLines(path, s_leakSuppressions);
        return path;
    }

    /// <summary>
    /// The first sanitizer report in <paramref name="error"/> (a program's standard error) from its first line on, or
    /// null when there is none.
    /// </summary>
    public static string? SanitizerReport(string error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var at = s_reportMarkers.Select(m => error.IndexOf(m, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (at < 0)
        {
            return null;
        }

        var line = error.LastIndexOf('\n', Math.Max(at - 1, 0));
        return error[(line + 1)..];
    }

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
    /// with libcomputecore (rpath set, so it runs without LD_LIBRARY_PATH), in the <see cref="DefaultFlavour"/>
    /// (sanitized); returns its path. Fails the test with the compiler's output when it does not compile.
    /// </summary>
    /// <param name="name">The executable's file name.</param>
    /// <param name="sources">Source files.</param>
    /// <param name="flags">Extra compiler flags.</param>
    public static Task<string> BuildAsync(string name, IEnumerable<string> sources, params string[] flags) =>
        BuildAsync(DefaultFlavour, name, sources, flags);

    /// <summary>As <see cref="BuildAsync(string, IEnumerable{string}, string[])"/>, in <paramref name="flavour"/>.</summary>
    /// <param name="flavour">Sanitized or plain.</param>
    /// <param name="name">The executable's file name.</param>
    /// <param name="sources">Source files.</param>
    /// <param name="flags">Extra compiler flags.</param>
    public static async Task<string> BuildAsync(NativeFlavour flavour, string name, IEnumerable<string> sources, params string[] flags)
    {
        var files = sources.ToArray();
        var cxx = files.Any(f => !f.EndsWith(".c", StringComparison.Ordinal));
        var output = Path.Combine(OutputDirectory, name);
        string[] args =
        [
            cxx ? "-std=c++17" : "-std=c11", "-Wall", "-Wextra", "-Werror", "-g",
            .. flavour == NativeFlavour.Sanitized ? SanitizerFlags : [], "-I", Include, .. flags, "-o", output, .. files,
            "-L", LibraryDirectory, "-Wl,-rpath," + LibraryDirectory, "-lcomputecore", "-lpthread",
        ];
        var run = await RunAsync(cxx ? "/usr/bin/g++" : "/usr/bin/gcc", args, timeout: TimeSpan.FromMinutes(3));
        Xunit.Assert.True(run.ExitCode == 0, $"{(cxx ? "g++" : "gcc")} {string.Join(' ', args)}\n{run}");
        s_flavours[output] = flavour;
        return output;
    }

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/>, <paramref name="environment"/> added to this
    /// process's environment (a null value removes a variable) and <paramref name="stdin"/> as its input; kills it
    /// after <paramref name="timeout"/> (default 5 minutes) and fails the test then. A program built
    /// <see cref="NativeFlavour.Sanitized"/> runs with <see cref="SanitizerEnvironment"/>, and a sanitizer report on its
    /// standard error fails the test unless <paramref name="allowSanitizerReports"/> (a test of the sanitizers
    /// themselves).
    /// </summary>
    public static async Task<NativeRun> RunAsync(string program, IEnumerable<string>? args = null,
        IReadOnlyDictionary<string, string?>? environment = null, string? stdin = null, TimeSpan? timeout = null,
        bool allowSanitizerReports = false)
    {
        var sanitized = s_flavours.TryGetValue(program, out var flavour) && flavour == NativeFlavour.Sanitized;
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

        if (sanitized)
        {
            foreach (var (key, value) in SanitizerEnvironment)
            {
                start.Environment[key] = value;
            }
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

        var run = new NativeRun(process.ExitCode, await output, await error);
        if (sanitized && !allowSanitizerReports && SanitizerReport(run.Error) is { } report)
        {
            Xunit.Assert.Fail($"{Path.GetFileName(program)}: sanitizer report (exit {run.ExitCode})\n{report}\n--- stdout\n{run.Out}");
        }

        return run;
    }
}
