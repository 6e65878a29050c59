// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

public sealed class BusyboxLayerTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-runc-layer-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public void Layer_HasBusyboxItsAppletsAndTheUserDatabase()
    {
        var layer = BusyboxLayer.Path;

        Assert.True(File.Exists(Path.Combine(layer, "bin", "busybox")));
        Assert.Equal("busybox", new FileInfo(Path.Combine(layer, "bin", "sh")).LinkTarget);
        Assert.True(File.Exists(Path.Combine(layer, ".hcs", "init")));
        foreach (var dir in new[] { "proc", "sys", "dev", "tmp", "etc", "root", "home/tester" })
        {
            Assert.True(Directory.Exists(Path.Combine(layer, dir)), dir);
        }

        Assert.Contains("tester:x:1000:1000:", File.ReadAllText(Path.Combine(layer, "etc", "passwd")), StringComparison.Ordinal);
        Assert.Contains("nogroup:x:65534:", File.ReadAllText(Path.Combine(layer, "etc", "group")), StringComparison.Ordinal);
        Assert.Same(layer, BusyboxLayer.Path);
    }

    [Fact]
    public async Task BusyboxFromTheLayer_RunsTrueAndFalse()
    {
        Assert.Equal(0, await RunAsync(Path.Combine(BusyboxLayer.Path, "bin", "busybox"), "true"));
        Assert.Equal(1, await RunAsync(Path.Combine(BusyboxLayer.Path, "bin", "busybox"), "false"));
    }

    [Fact]
    public void NewLayer_WritesTheGivenFiles()
    {
        var layer = BusyboxLayer.NewLayer(_temp.FullName, new Dictionary<string, string> { ["etc/motd"] = "hello\n", ["/a/b/c.txt"] = "c" });

        Assert.StartsWith(_temp.FullName, layer, StringComparison.Ordinal);
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(layer, "etc", "motd")));
        Assert.Equal("c", File.ReadAllText(Path.Combine(layer, "a", "b", "c.txt")));
    }

    private static async Task<int> RunAsync(string file, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo(file, argument) { UseShellExecute = false })!;
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return process.ExitCode;
    }
}
