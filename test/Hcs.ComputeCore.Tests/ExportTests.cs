// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.RegularExpressions;

namespace Hcs.ComputeCore.Tests;

/// <summary>The library's dynamic symbol table: exactly the C API and its Win32 helpers, nothing else.</summary>
public sealed partial class ExportTests
{
    /// <summary>The Win32 compatibility functions the library exports (declared in include/windows.h).</summary>
    private static readonly string[] s_win32 =
        ["LocalFree", "CloseHandle", "CreateEventW", "SetEvent", "ResetEvent", "WaitForSingleObject", "Sleep", "GetLastError"];

    [Fact]
    public async Task Library_exports_exactly_the_60_functions_their_presence_queries_and_the_Win32_helpers()
    {
        NativeToolchain.RequireLibrary();

        // The contract: every function computecore.h declares (60, with HcsCancelLiveMigration) and its IsHcs*Present.
        var header = await File.ReadAllTextAsync(Path.Combine(NativeToolchain.Include, "computecore.h"), TestContext.Current.CancellationToken);
        var declared = Declared().Matches(header).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(declared.Count, declared.Distinct(StringComparer.Ordinal).Count());
        var functions = declared.Where(n => !n.StartsWith("IsHcs", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var presence = declared.Where(n => n.StartsWith("IsHcs", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(60, functions.Count);
        Assert.All(functions, f => Assert.StartsWith("Hcs", f, StringComparison.Ordinal));
        Assert.Contains("HcsCancelLiveMigration", functions);
        Assert.Equal(functions.Select(f => $"Is{f}Present").Order(StringComparer.Ordinal), presence.Order(StringComparer.Ordinal));
        var windows = await File.ReadAllTextAsync(Path.Combine(NativeToolchain.Include, "windows.h"), TestContext.Current.CancellationToken);
        Assert.Equal(s_win32.Order(StringComparer.Ordinal), Declared().Matches(windows).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal));

        var expected = functions.Concat(presence).Concat(s_win32).ToHashSet(StringComparer.Ordinal);
        var exported = await ExportedAsync();
        Assert.Equal(128, expected.Count);
        Assert.Empty(expected.Except(exported).Order(StringComparer.Ordinal)); // missing
        Assert.Empty(exported.Except(expected).Order(StringComparer.Ordinal)); // unexpected (DotNetRuntimeDebugHeader is off: DebuggerSupport=false)
    }

    /// <summary>
    /// The defined dynamic symbols of the library, by name: <c>nm -D --defined-only</c> less the version node itself
    /// (<c>V1.0</c>, an absolute symbol that names the version every export carries, not a symbol a program can call).
    /// </summary>
    private static async Task<HashSet<string>> ExportedAsync()
    {
        var nm = await NativeToolchain.RunAsync("nm", ["-D", "--defined-only", "--", NativeToolchain.Library]);
        Assert.Equal(0, nm.ExitCode);
        var symbols = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in nm.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(fields.Length == 3, $"unexpected nm line: {line}");
            if (fields[1] == "A")
            {
                continue;
            }

            Assert.True(fields[1] == "T", $"not a function: {line}");
            symbols.Add(fields[2].Split('@')[0]);
        }

        return symbols;
    }

    [GeneratedRegex(@"\bWINAPI\s+(\w+)\s*\(")]
    private static partial Regex Declared();
}
