// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;

namespace Hcs.ComputeCore.Tests;

/// <summary>samples/c/every_export.c: every export called, with the error path of each bad argument, against a real hcsd.</summary>
public sealed class EveryExportTests
{
    [Fact]
    public async Task Every_export_answers_as_documented_against_hcsd()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync("every_export", [Repository.Path("samples", "c", "every_export.c")]);
        await using var hcsd = await HcsdProcess.StartAsync();
        var directory = Directory.CreateTempSubdirectory("every-export-");
        try
        {
            var run = await NativeToolchain.RunAsync(program, [directory.FullName, FakeDocuments.Vm()],
                new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = null },
                timeout: TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, $"{run}\n--- hcsd\n{hcsd.Log}");
            Assert.Matches(@"^every export: \d+ checks passed\n$", run.Out);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
