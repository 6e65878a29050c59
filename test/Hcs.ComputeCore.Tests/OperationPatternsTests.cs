// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// samples/c/operation_patterns.cpp against a real hcsd: the three ways to learn that an operation completed on a UEFI
/// VM under QEMU, closing handles from inside their own callbacks, and a close on another thread waiting for a
/// callback in flight. And a callback that throws: it ends the process.
/// </summary>
[Collection(nameof(VmCollection))]
public sealed class OperationPatternsTests
{
    private static string Source => Repository.Path("samples", "c", "operation_patterns.cpp");

    [Fact]
    public async Task OperationPatterns_OverHcsd_AllThreePatternsAndTheCloseRulesHold()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync("operation_patterns", [Source]);
        Requires.Qemu();
        Requires.Ovmf();
        using var vm = await VmLock.AcquireAsync(TimeSpan.FromMinutes(20), TestContext.Current.CancellationToken);
        await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "qemu", "--shutdown-timeout", "5");
        var run = await NativeToolchain.RunAsync(program, environment: Daemon(hcsd));
        Assert.True(run.ExitCode == 0, $"{run}\n--- hcsd\n{hcsd.Log}");
        Assert.Equal(
            [
                "a. wait synchronously: ok",
                "b. completion callback: ok",
                "close waits (operation): ok",
                "close waits (system): ok",
                "c. refused: 0x80370119",
                "c. system callback: ok",
                "close inside callback: ok",
                "patterns: ok",
            ],
            run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// A C++ exception thrown by a completion callback cannot cross the library's frames: the C++ runtime finds no
    /// handler and calls std::terminate, which aborts (SIGABRT; the exit status 134 = 128 + 6). Documented in
    /// docs/c-api.md: callbacks must not throw.
    /// </summary>
    [Fact]
    public async Task CallbackThatThrows_EndsTheProcess_WithSigabrt()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync("operation_patterns_throw", [Source]);
        await using var hcsd = await HcsdProcess.StartAsync(); // the fake backend: the callback is an enumeration's
        var run = await NativeToolchain.RunAsync(program, ["throw"], Daemon(hcsd), timeout: TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode is 134 or -6, $"expected death by SIGABRT\n{run}");
        Assert.Contains("thrown from a callback", run.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("survived", run.Out, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Daemon(HcsdProcess hcsd) => new()
    {
        ["HCS_SOCKET"] = hcsd.Socket,
        ["HCS_SERVICE_MODE"] = "daemon",
    };
}
