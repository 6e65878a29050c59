// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// <c>samples/c/process.c</c> against a real hcsd with the runc backend: a process in a busybox container, its stdio as
/// file descriptors (bytes exact both ways at 64 MiB, EOF both ways, absent streams, an early close of stdout), its exit
/// event and code.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ProcessStdioTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(4);

    private static async Task<NativeRun> RunAsync(string mode)
    {
        NativeToolchain.RequireLibrary();
        Requires.Containers();
        var program = await NativeToolchain.BuildAsync("process", [Repository.Path("samples", "c", "process.c")]);
        await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "runc");
        var configuration = HcsJson.Serialize(new Schema.ComputeSystem
        {
            Owner = "computecore-process-tests",
            SchemaVersion = new Schema.Version { Major = 2, Minor = 1 },
            Container = new Container { Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] } },

            // A program that fails half-way leaves no container behind (systems otherwise outlive hcsd).
            ShouldTerminateOnLastHandleClosed = true,
        });
        var id = "cprocess-" + Guid.NewGuid().ToString("N")[..8];
        var run = await NativeToolchain.RunAsync(program, [id, configuration, mode],
            new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = null }, timeout: s_limit);
        Assert.True(run.ExitCode == 0, $"{run}\n--- hcsd\n{hcsd.Log}");
        return run;
    }

    [Fact]
    public async Task Echo_StdinReachesTheProcess_StdoutAndStderrComeBack_ExitEventAndCode()
    {
        var run = await RunAsync("echo");
        Assert.Equal(
            "second retrieval: same id, no descriptors\n" +
            "stdout: out:hello\n" +
            "stderr: err:hello\n" +
            "exited event\n" +
            "exit code 3\n", run.Out);
    }

    [Fact]
    public async Task Echo64MiB_ThroughCat_IsExactBothWays_AndStdinEofEndsCat()
    {
        var run = await RunAsync("echo-64m");
        Assert.Equal(
            "stdout: 67108864 bytes, 0 wrong\n" +
            "stderr: 0 bytes\n" +
            "exited event\n" +
            "exit code 0\n", run.Out);
    }

    [Fact]
    public async Task Output64MiB_IsExact_AbsentStreamsAreInvalidHandleValue_AndGetProcessInfoHandsOut()
    {
        var run = await RunAsync("output-64m");
        Assert.Equal(
            "stdin absent, stderr absent\n" +
            "stdout: 67108864 bytes, 0 wrong\n" +
            "exited event\n" +
            "exit code 0\n", run.Out);
    }

    [Fact]
    public async Task EarlyClose_OfStdout_NeitherKillsNorHangsTheHost_AndTerminateWorks()
    {
        var run = await RunAsync("early-close");
        Assert.Equal("stdout closed after >= 1 MiB, 0 wrong\nexited event\nexit code 137\n", run.Out); // SIGKILL
    }

    [Fact]
    public async Task ModifyClosingStdin_EndsCat_AnOpenedHandleHasNoStdio_AndArgumentsAreChecked()
    {
        var run = await RunAsync("modify");
        Assert.Equal(
            "argument checks\n" +
            "opened handle: same id, no descriptors\n" +
            "stdout: 0 bytes\n" +
            "exited event\n" +
            "exit code 0\n", run.Out);
    }
}

/// <summary>The process functions are in the library's dynamic symbol table.</summary>
public sealed class ProcessExportTests
{
    [Fact]
    public async Task Library_exports_the_process_functions()
    {
        NativeToolchain.RequireLibrary();
        var nm = await NativeToolchain.RunAsync("nm", ["-D", "--defined-only", "--", NativeToolchain.Library]);
        Assert.Equal(0, nm.ExitCode);
        var symbols = nm.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1].Split('@')[0]).ToHashSet();
        foreach (var name in (string[])["HcsCreateProcess", "HcsOpenProcess", "HcsCloseProcess", "HcsTerminateProcess", "HcsSignalProcess",
            "HcsGetProcessInfo", "HcsGetProcessProperties", "HcsModifyProcess", "HcsSetProcessCallback", "HcsWaitForProcessExit",
            "HcsGetOperationResultAndProcessInfo", "HcsWaitForOperationResultAndProcessInfo"])
        {
            Assert.Contains(name, symbols);
        }
    }
}
