// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The seed sample (Microsoft's event-callback sample, read at test time, never stored in the tree) compiled unchanged
/// inside samples/c/seed/seed_main.cpp, then run on a real UEFI VM under QEMU: through hcsd and with the engine
/// embedded in the library. The wrapper records what the sample's own callback asserted (its WI_ASSERT, redefined).
/// </summary>
[Collection(nameof(VmCollection))]
public sealed class SeedProgramTests
{
    [Fact]
    public async Task Seed_CompiledUnchanged_OverHcsd_CallbackSeesSystemExitedOnly()
    {
        var program = await SeedProgram.BuildAsync();
        Requires.Qemu();
        Requires.Ovmf();
        using var vm = await VmLock.AcquireAsync(TimeSpan.FromMinutes(20), TestContext.Current.CancellationToken);
        await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "qemu", "--shutdown-timeout", "5");
        var run = await NativeToolchain.RunAsync(program, environment: new Dictionary<string, string?>
        {
            ["HCS_SOCKET"] = hcsd.Socket,
            ["HCS_SERVICE_MODE"] = "daemon",
        });
        SeedProgram.AssertSawOnlyTheExit(run, hcsd.Log);
    }

    [Fact]
    public async Task Seed_CompiledUnchanged_Embedded_CallbackSeesSystemExitedOnly()
    {
        var program = await SeedProgram.BuildAsync();
        Requires.Qemu();
        Requires.Ovmf();
        using var vm = await VmLock.AcquireAsync(TimeSpan.FromMinutes(20), TestContext.Current.CancellationToken);
        var run = await NativeToolchain.RunAsync(program, environment: new Dictionary<string, string?>
        {
            ["HCS_SOCKET"] = null,
            ["HCS_SERVICE_MODE"] = "embedded",
        });
        SeedProgram.AssertSawOnlyTheExit(run, "(embedded: no hcsd)");
    }
}

/// <summary>Serialises the tests of this assembly that boot VMs.</summary>
[CollectionDefinition(nameof(VmCollection), DisableParallelization = true)]
public sealed class VmCollection;

/// <summary>Builds and checks the seed program (the extraction is <see cref="SeedSample"/>'s).</summary>
public static class SeedProgram
{
    /// <summary>Extracts the seed's code and compiles the wrapper with it against the library; the program's path.</summary>
    public static async Task<string> BuildAsync()
    {
        NativeToolchain.RequireLibrary();
        var directory = SeedSample.ExtractCode(NativeToolchain.OutputDirectory);
        return await NativeToolchain.BuildAsync($"seed-{Guid.NewGuid():N}", [SeedSample.Wrapper], "-I", directory);
    }

    /// <summary>The program ran the VM through its life and the sample's callback saw the exit, with data, and nothing it asserts against.</summary>
    public static void AssertSawOnlyTheExit(NativeRun run, string serviceLog)
    {
        var context = $"{run}\n--- service\n{serviceLog}";
        Assert.True(run.ExitCode == 0, context);
        Assert.Contains("callback: type=0x00000001 assert=true\n", run.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("type=0x00010000", run.Out, StringComparison.Ordinal); // HcsEventProcessExited
        Assert.DoesNotContain("type=0x01000000", run.Out, StringComparison.Ordinal); // HcsEventOperationCallback
        Assert.DoesNotContain("assert=false", run.Out, StringComparison.Ordinal);
        Assert.EndsWith("seed: ok\n", run.Out, StringComparison.Ordinal);
    }
}
