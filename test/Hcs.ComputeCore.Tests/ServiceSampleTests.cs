// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Schema;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// samples/c/service.c against a real hcsd (fake backend: a crash costs nothing): service properties, the refusal of
/// service settings, and a crash report taken from a <c>SystemCrashReport</c> event and filed with hcsd.
/// </summary>
public sealed class ServiceSampleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Service_ListsSchemaVersions_RefusesSettings_AndFilesTheCrashReportOfACrashedSystem()
    {
        NativeToolchain.RequireLibrary();
        var program = await NativeToolchain.BuildAsync("service", [Repository.Path("samples", "c", "service.c")]);
        await using var hcsd = await HcsdProcess.StartAsync();
        var document = Path.Combine(hcsd.Directory, "vm.json");
        await File.WriteAllTextAsync(document, FakeDocuments.Vm(owner: "c-samples"), Ct);
        const string Id = "c-service-crash";

        var run = await NativeToolchain.RunAsync(program, [Id, document],
            new Dictionary<string, string?> { ["HCS_SOCKET"] = hcsd.Socket, ["HCS_SERVICE_MODE"] = "daemon" });

        Assert.True(run.ExitCode == 0, $"{run}\n--- hcsd\n{hcsd.Log}");
        var lines = run.Out.Split('\n');
        Assert.Equal("schema versions 2.0 2.1 2.2 2.3 2.4 2.5", lines[0]);
        Assert.Equal("ProcessorTopology answered with an error", lines[1]);
        Assert.Equal($"Memory refused 0x{HResults.HCS_E_INVALID_JSON:X8}", lines[2]);
        Assert.Equal($"ModifyServiceSettings refused 0x{HResults.E_NOTIMPL:X8}", lines[3]);
        Assert.Equal($"ModifyServiceSettings malformed 0x{HResults.HCS_E_INVALID_JSON:X8}", lines[4]);
        Assert.Equal(["crash report received", "crash report filed", "report without SystemId refused", "done", ""], lines[5..]);
        Assert.Equal("", run.Error);

        // hcsd filed exactly the one report, for this system, with the crash log the fake guest wrote.
        var crash = Path.Combine(hcsd.StateDirectory, "crash");
        var report = Assert.Single(Directory.GetFiles(crash, "*.json"));
        Assert.StartsWith(Id + "-", Path.GetFileName(report), StringComparison.Ordinal);
        var filed = await File.ReadAllTextAsync(report, Ct);
        Assert.Contains($"\"SystemId\":\"{Id}\"", filed, StringComparison.Ordinal);
        Assert.Contains("Kernel panic", await File.ReadAllTextAsync(Path.ChangeExtension(report, ".log"), Ct), StringComparison.Ordinal);
    }
}
