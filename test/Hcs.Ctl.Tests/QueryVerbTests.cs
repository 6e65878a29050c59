// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>list, inspect and service.</summary>
public abstract class QueryVerbCases(CtlTransport transport) : IAsyncLifetime
{
    private CtlHarness _ctl = null!;

    public async ValueTask InitializeAsync()
    {
        _ctl = await CtlHarness.StartAsync(transport);
    }

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    private async Task TwoSystemsAsync()
    {
        await _ctl.ContainerAsync("ct1", start: false);
        await _ctl.OkAsync("create", "vm1", _ctl.File("vm.json", CtlHarness.VmDocument()), "--start");
    }

    [Fact]
    public async Task List_PrintsATable_SortedById_WithUptimeForRunningSystems()
    {
        await TwoSystemsAsync();
        var lines = (await _ctl.OkAsync("list")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^ID\s{3,}TYPE\s{3,}STATE\s{3,}OWNER\s{3,}UPTIME$", lines[0]);
        Assert.Matches(@"^ct1\s{3,}Container\s{3,}Created\s{3,}tests\s{3,}-$", lines[1]);
        Assert.Matches(@"^vm1\s{3,}VirtualMachine\s{3,}Running\s{3,}tests\s{3,}\d+s$", lines[2]);
        // Columns line up.
        Assert.Equal(lines[0].IndexOf("TYPE", StringComparison.Ordinal), lines[1].IndexOf("Container", StringComparison.Ordinal));
    }

    [Fact]
    public async Task List_Json_IsTheServicesPropertiesArray()
    {
        await TwoSystemsAsync();
        using var json = JsonDocument.Parse(await _ctl.OkAsync("list", "--json"));
        var ids = json.RootElement.EnumerateArray().Select(e => e.GetProperty("Id").GetString()).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["ct1", "vm1"], ids);
    }

    [Fact]
    public async Task List_QuietAndTypeFilter_PrintsMatchingIds()
    {
        await TwoSystemsAsync();
        Assert.Equal("vm1\n", await _ctl.OkAsync("list", "-q", "--type", "virtualmachine"));
        Assert.Equal("ct1\nvm1\n", await _ctl.OkAsync("list", "--quiet", "--owner", "tests"));
        Assert.Equal("", await _ctl.OkAsync("list", "-q", "--owner", "someone-else"));
        var bad = await _ctl.RunAsync("list", "--type", "Toaster");
        Assert.Equal(2, bad.ExitCode);
        Assert.StartsWith("hcsctl: list: --type: 'Toaster' is not a system type", bad.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Inspect_PrintsIndentedProperties_PlusTheTypesAsked()
    {
        await TwoSystemsAsync();
        var basic = await _ctl.OkAsync("inspect", "vm1");
        Assert.Contains("\n  \"Id\": \"vm1\"", basic, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(basic))
        {
            Assert.Equal("Running", json.RootElement.GetProperty("State").GetString());
            Assert.False(json.RootElement.TryGetProperty("Statistics", out _));
        }

        using (var json = JsonDocument.Parse(await _ctl.OkAsync("inspect", "vm1", "--type", "Statistics,TerminateOnLastHandleClosed")))
        {
            Assert.True(json.RootElement.GetProperty("Statistics").GetProperty("Uptime100ns").GetUInt64() > 0);
            Assert.False(json.RootElement.GetProperty("TerminateOnLastHandleClosed").GetBoolean());
        }
    }

    [Fact]
    public async Task Inspect_Query_IsSentVerbatim_AndABadOneIsInvalidJson()
    {
        await TwoSystemsAsync();
        using (var json = JsonDocument.Parse(await _ctl.OkAsync("inspect", "vm1", "--query", """{"PropertyTypes":["Statistics"]}""")))
        {
            Assert.True(json.RootElement.TryGetProperty("Statistics", out _));
        }

        var bad = await _ctl.RunAsync("inspect", "vm1", "--query", """{"PropertyTypes":["Nonsense"]}""");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("hcsctl: inspect vm1: HCS_E_INVALID_JSON (0x", bad.Error, StringComparison.Ordinal);

        var both = await _ctl.RunAsync("inspect", "vm1", "--query", "{}", "--type", "Statistics");
        Assert.Equal(2, both.ExitCode);
        var unknownType = await _ctl.RunAsync("inspect", "vm1", "--type", "Statistics,Nope");
        Assert.Equal(2, unknownType.ExitCode);
        Assert.StartsWith("hcsctl: inspect: --type: 'Nope' is not one of Memory, Statistics, ProcessList", unknownType.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Service_PrintsTheServiceProperties()
    {
        using var json = JsonDocument.Parse(await _ctl.OkAsync("service"));
        var basic = json.RootElement.GetProperty("Properties")[0];
        Assert.Equal(2, basic.GetProperty("SupportedSchemaVersions")[0].GetProperty("Major").GetInt32());
        using var typed = JsonDocument.Parse(await _ctl.OkAsync("service", "--type", "Basic"));
        Assert.Equal(1, typed.RootElement.GetProperty("Properties").GetArrayLength());
    }
}

/// <summary>The list, inspect and service cases, with hcsctl and the engine in one process.</summary>
public sealed class QueryVerbTests() : QueryVerbCases(CtlTransport.InProcess)
{
    [Theory]
    [InlineData(0.5, "0s")]
    [InlineData(42, "42s")]
    [InlineData(307, "5m07s")]
    [InlineData(3 * 3600 + 125, "3h02m")]
    [InlineData(12 * 86400 + 4 * 3600, "12d04h")]
    public void Uptime_IsShort(double seconds, string expected) =>
        Assert.Equal(expected, Verbs.FormatDuration(TimeSpan.FromSeconds(seconds)));
}

/// <summary>The list, inspect and service cases, with hcsctl reaching the engine through hcsd's socket.</summary>
public sealed class QueryVerbOverHcsdTests() : QueryVerbCases(CtlTransport.Hcsd);

/// <summary>The list, inspect and service cases, run by the shipped native hcsctl through hcsd's socket.</summary>
public sealed class QueryVerbOverNativeHcsctlTests() : QueryVerbCases(CtlTransport.NativeProcess);
