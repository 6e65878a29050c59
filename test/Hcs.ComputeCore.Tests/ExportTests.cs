// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>The library's dynamic symbol table: the C API and nothing else of ours.</summary>
public sealed class ExportTests
{
    [Fact]
    public async Task Library_exports_the_operation_functions()
    {
        NativeToolchain.RequireLibrary();
        var nm = await NativeToolchain.RunAsync("nm", ["-D", "--defined-only", "--", NativeToolchain.Library]);
        Assert.Equal(0, nm.ExitCode);
        var symbols = nm.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1].Split('@')[0]).ToHashSet();
        foreach (var name in (string[])["HcsCreateOperation", "HcsCloseOperation", "HcsWaitForOperationResult", "HcsCreateComputeSystem", "LocalFree"])
        {
            Assert.Contains(name, symbols);
        }
    }
}
