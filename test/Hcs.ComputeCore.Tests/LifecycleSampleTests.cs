// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// samples/c/lifecycle.c against a real hcsd with the QEMU backend: the test guest booted kernel-direct (the cheapest
/// VM under TCG) is created, started, opened again, enumerated, paused, resumed, saved, terminated, restored into a new
/// system, shrunk and terminated, all from C.
/// </summary>
public sealed class LifecycleSampleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lifecycle_CreatesPausesSavesRestoresShrinksAndTerminatesAVm()
    {
        NativeToolchain.RequireLibrary();
        Requires.Vms();
        var program = await NativeToolchain.BuildAsync("lifecycle", [Repository.Path("samples", "c", "lifecycle.c")]);
        var scratch = Directory.CreateTempSubdirectory("hcs-c-lifecycle-").FullName;
        try
        {
            var state = Path.Combine(scratch, "vm.state");
            var document = GuestImage.Document("idle", owner: "c-samples");
            var restore = document with { VirtualMachine = document.VirtualMachine! with { RestoreState = new RestoreState { SaveStateFilePath = state } } };
            await File.WriteAllTextAsync(Path.Combine(scratch, "vm.json"), HcsJson.Serialize(document), Ct);
            await File.WriteAllTextAsync(Path.Combine(scratch, "restore.json"), HcsJson.Serialize(restore), Ct);
            var id = $"c-lifecycle-{Guid.NewGuid():N}"[..24];

            using var vms = await VmLock.AcquireAsync(TimeSpan.FromMinutes(20), Ct);
            await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "qemu");
            var run = await NativeToolchain.RunAsync(program,
                [id, Path.Combine(scratch, "vm.json"), Path.Combine(scratch, "restore.json"), state],
                new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = "daemon" },
                timeout: TimeSpan.FromMinutes(8));

            Assert.True(run.ExitCode == 0, $"{run}\n--- hcsd\n{hcsd.Log}");
            Assert.Equal(
                """
                state Running
                enumerate all 1
                enumerate by id 1
                enumerate other 0
                state Paused
                state Running
                state Paused
                saved
                exited
                state Running
                restored
                memory 160
                exited
                done

                """, run.Out);
            Assert.True(File.Exists(state), "the saved state file");
            Assert.Equal("", run.Error);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
