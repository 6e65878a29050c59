// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// What the library does to the program that loads it, in the default mode (hcsd): it prints nothing, spawns no
/// process and leaves SIGCHLD alone (c/hygiene.c checks the last two from inside the program).
/// </summary>
public sealed class LibraryHygieneTests
{
    [Fact]
    public async Task A_program_using_hcsd_through_the_library_gets_no_output_no_child_and_no_SIGCHLD_handler()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync("hygiene", [Path.Combine(AppContext.BaseDirectory, "c", "hygiene.c")]);
        await using var hcsd = await HcsdProcess.StartAsync();

        var run = await NativeToolchain.RunAsync(program, ["hygiene-" + Guid.NewGuid().ToString("N")[..8], FakeDocuments.Vm()],
            new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = null });

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("ok\n", run.Out);
        Assert.Equal("", run.Error);
    }
}
