// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// samples/c/python/hcs_ctypes.py: the library loaded into Python with ctypes (no .NET in the host), one system through
/// its life with an event callback written in Python: a fake-backend VM through hcsd, and a real UEFI VM with the
/// engine embedded in the Python process.
/// </summary>
[Collection(nameof(VmCollection))]
public sealed class PythonCtypesTests
{
    private static string Script => Repository.Path("samples", "c", "python", "hcs_ctypes.py");

    [Fact]
    public async Task Python_OverHcsd_FakeVm_CreateStartTerminateWaitClose()
    {
        var python = RequirePython();
        await using var hcsd = await HcsdProcess.StartAsync();
        var run = await NativeToolchain.RunAsync(python, [Script, "--library", NativeToolchain.Library, "--document", "fake"],
            new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = "daemon" });
        AssertLife(run, hcsd.Log);
    }

    [Fact]
    public async Task Python_Embedded_UefiVm_CreateStartTerminateWaitClose()
    {
        var python = RequirePython();
        Requires.Qemu();
        Requires.Ovmf();
        using var vm = await VmLock.AcquireAsync(TimeSpan.FromMinutes(20), TestContext.Current.CancellationToken);
        var run = await NativeToolchain.RunAsync(python, [Script, "--library", NativeToolchain.Library, "--document", "uefi"],
            new Dictionary<string, string?> { ["HCS_SOCKET"] = null, ["HCS_SERVICE_MODE"] = "embedded" });
        AssertLife(run, "(embedded: no hcsd)");
    }

    private static string RequirePython()
    {
        NativeToolchain.RequireLibrary();
        var python = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);
        Requires.Check(python is not null, "python3 on PATH (apt-get install python3)");
        return python!;
    }

    private static void AssertLife(NativeRun run, string serviceLog)
    {
        Assert.True(run.ExitCode == 0, $"{run}\n--- service\n{serviceLog}");
        Assert.Equal(
            [
                "create: ok",
                "start: ok",
                "properties: State=Running",
                "terminate: ok",
                "exit: ExitType=ForcedExit",
                "callback: SystemExited EventData=present",
                "python: ok",
            ],
            run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
