// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The C suite runs under ASan + UBSan (<see cref="NativeFlavour.Sanitized"/>): a clean program with libcomputecore
/// loaded reports nothing (the .NET runtime's own allocations are suppressed), while a use after <c>LocalFree</c> and a
/// string never handed back to <c>LocalFree</c> are reported and fail the test that ran them.
/// </summary>
public sealed class SanitizerTests
{
    private static string Source => Repository.Path("test", "Hcs.ComputeCore.Tests", "Sanitizers", "mistakes.c");

    [Fact]
    public async Task CleanProgram_RunsWithoutAReport()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync(NativeFlavour.Sanitized, "mistakes-clean", [Source]);
        await using var hcsd = await HcsdProcess.StartAsync();

        var run = await NativeToolchain.RunAsync(program, ["clean"], Service(hcsd));

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("first character {\n", run.Out);
        Assert.Null(NativeToolchain.SanitizerReport(run.Error));
    }

    [Fact]
    public async Task UseAfterLocalFree_IsReported_AndFailsTheTest()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync(NativeFlavour.Sanitized, "mistakes-uaf", [Source]);
        await using var hcsd = await HcsdProcess.StartAsync();

        var run = await NativeToolchain.RunAsync(program, ["use-after-free"], Service(hcsd), allowSanitizerReports: true);

        Assert.Equal(NativeToolchain.SanitizerExitCode, run.ExitCode);
        var report = NativeToolchain.SanitizerReport(run.Error);
        Assert.NotNull(report);
        Assert.Contains("ERROR: AddressSanitizer: heap-use-after-free", report, StringComparison.Ordinal);
        Assert.Contains("mistakes.c:33", report, StringComparison.Ordinal); // the read
        Assert.Contains("LocalFree", report, StringComparison.Ordinal); // where it was freed
        Assert.DoesNotContain("after free", run.Out, StringComparison.Ordinal);

        // Without allowSanitizerReports the same run fails the test that made it.
        var failure = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(
            () => NativeToolchain.RunAsync(program, ["use-after-free"], Service(hcsd)));
        Assert.Contains("heap-use-after-free", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StringNeverLocalFreed_IsReportedAsALeak_AndFailsTheTest()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync(NativeFlavour.Sanitized, "mistakes-leak", [Source]);
        await using var hcsd = await HcsdProcess.StartAsync();

        var run = await NativeToolchain.RunAsync(program, ["leak"], Service(hcsd), allowSanitizerReports: true);

        Assert.Equal(NativeToolchain.SanitizerExitCode, run.ExitCode);
        var report = NativeToolchain.SanitizerReport(run.Error);
        Assert.NotNull(report);
        Assert.Contains("ERROR: LeakSanitizer: detected memory leaks", report, StringComparison.Ordinal);
        // Exactly one leak: the string HcsGetServiceProperties returned, allocated for the caller by the export.
        Assert.Single(report.Split('\n'), l => l.StartsWith("Direct leak of", StringComparison.Ordinal) || l.StartsWith("Indirect leak of", StringComparison.Ordinal));
        Assert.Contains("NativeStrings__Allocate", report, StringComparison.Ordinal);
        Assert.Contains("Exports__GetServiceProperties", report, StringComparison.Ordinal);
        Assert.Contains("mistakes.c:15", report, StringComparison.Ordinal);

        var failure = await Assert.ThrowsAnyAsync<Xunit.Sdk.XunitException>(
            () => NativeToolchain.RunAsync(program, ["leak"], Service(hcsd)));
        Assert.Contains("LeakSanitizer", failure.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> Service(HcsdProcess hcsd) =>
        new() { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = "daemon" };
}
