// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.TestKit;

/// <summary>
/// The shipped executables every test that runs hcsd or hcsctl as a process runs: the NativeAOT builds that
/// <c>./build.sh build</c> publishes into <c>artifacts/bin</c> (what the Debian package installs), found in the nearest
/// directory above the test assembly that has them. When one is missing the test does not quietly run something
/// else: it goes through <see cref="Requires"/> (a skip, or a failure where <c>HCS_TEST_REQUIRE_ALL=1</c>, as in CI).
/// <para>
/// <see cref="JitVariable"/><c>=1</c> runs the JIT builds next to the test assembly instead (the apphosts of the
/// referenced <c>Hcs.Daemon</c> and <c>Hcs.Ctl</c> projects): an explicit choice for a quick local loop that does not
/// wait for a NativeAOT publish; it never happens by default.
/// </para>
/// </summary>
public static class NativeBinaries
{
    /// <summary>Set to <c>1</c>: run the JIT builds next to the tests instead of the native ones.</summary>
    public const string JitVariable = "HCS_TEST_JIT";

    /// <summary>Whether <see cref="JitVariable"/> asks for the JIT builds.</summary>
    public static bool UseJit => Environment.GetEnvironmentVariable(JitVariable) is "1" or "true";

    /// <summary>The hcsd executable to run (skips or fails the test when it is missing).</summary>
    public static string Hcsd => Require("hcsd");

    /// <summary>The hcsctl executable to run (skips or fails the test when it is missing).</summary>
    public static string Hcsctl => Require("hcsctl");

    /// <summary>
    /// <c>artifacts/bin/NAME</c> in the nearest directory above the test assembly that has it, or, with
    /// <see cref="JitVariable"/>, the JIT apphost beside the test assembly; null when it is not there.
    /// </summary>
    public static string? Find(string name)
    {
        if (UseJit)
        {
            var jit = Path.Combine(AppContext.BaseDirectory, name);
            return File.Exists(jit) ? jit : null;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "artifacts", "bin", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string Require(string name)
    {
        var found = Find(name);
        Requires.Check(found is not null, UseJit
            ? $"the JIT {name} beside the tests in {AppContext.BaseDirectory} ({JitVariable} is set)"
            : $"the native {name} in artifacts/bin above {AppContext.BaseDirectory} (./build.sh build publishes it; {JitVariable}=1 runs the JIT build instead)");
        return found!;
    }
}
