// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema.Tests;

/// <summary>Input the parser cannot turn into strings, and huge input, is HCS_E_INVALID_JSON with a path and a bounded message.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, string, string> LoneSurrogates() => new()
    {
        // case, JSON, expected path
        { "escaped high surrogate in a value", """{"Owner":"a\ud800b","VirtualMachine":{}}""", "$.Owner" },
        { "escaped low surrogate in a value", """{"Owner":"\udc00","VirtualMachine":{}}""", "$.Owner" },
        { "escaped surrogates in the wrong order", """{"Owner":"\udc00\ud800","VirtualMachine":{}}""", "$.Owner" },
        { "escaped surrogate deep in a map", """{"VirtualMachine":{"Devices":{"Scsi":{"0":{"Attachments":{"0":{"Path":"/x\ud800"}}}}}}}""", "$.VirtualMachine.Devices.Scsi['0'].Attachments['0'].Path" },
        { "escaped surrogate in an array element", """{"Container":{"MappedDirectories":[{"HostPath":"/a"},{"HostPath":"\ud800"}]}}""", "$.Container.MappedDirectories[1].HostPath" },
        { "escaped surrogate in a member name", """{"VirtualMachine":{"Fo\ud800o":1}}""", "$.VirtualMachine" },
        { "escaped surrogate in a map key", """{"VirtualMachine":{"Devices":{"ComPorts":{"\udbff":{}}}}}""", "$.VirtualMachine.Devices.ComPorts" },
        { "raw high surrogate in a value", "{\"Owner\":\"a\ud800\",\"VirtualMachine\":{}}", "$.Owner" },
        { "raw low surrogate in a member name", "{\"VirtualMachine\":{\"\udc00\":1}}", "$.VirtualMachine" },
        { "raw surrogate outside a string", "{\"VirtualMachine\":{}\ud800}", "$.VirtualMachine" },
        { "escaped surrogate in a JsonElement member (Numa)", """{"VirtualMachine":{"ComputeTopology":{"Numa":{"x":"\ud800"}}}}""", "$.VirtualMachine.ComputeTopology.Numa.x" },
    };

    [Theory]
    [MemberData(nameof(LoneSurrogates))]
    public void LoneSurrogateIsInvalidJsonNamingThePath(string @case, string json, string path)
    {
        var ex = Assert.Throws<HcsException>(() => HcsJson.ParseComputeSystem(json));

        Assert.True(ex.HResult == HResults.HCS_E_INVALID_JSON, $"{@case}: 0x{ex.HResult:X8} {ex.Message}");
        Assert.StartsWith($"{path}: ", Detail(ex), StringComparison.Ordinal);
        Assert.True(ex.Message.Contains("surrogate", StringComparison.Ordinal) || ex.Message.Contains("malformed JSON", StringComparison.Ordinal), ex.Message);
    }

    [Fact]
    public void ValidSurrogatePairsAreAccepted()
    {
        var system = HcsJson.ParseComputeSystem("{\"Owner\":\"\\ud83d\\ude00 \ud83d\ude00\",\"VirtualMachine\":{}}");

        Assert.Equal("\ud83d\ude00 \ud83d\ude00", system.Owner);
    }

    [Fact]
    public void LoneSurrogateInAnElementParsedElsewhereIsInvalidJsonNamingThePath()
    {
        using var document = JsonDocument.Parse("""{"Settings":{"HostPath":"\ud800"}}""");

        var ex = Assert.Throws<HcsException>(() =>
            HcsJson.Deserialize<MappedDirectory>(document.RootElement.GetProperty("Settings"), "$.Settings"));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.StartsWith("$.Settings.HostPath: ", Detail(ex), StringComparison.Ordinal);
    }

    [Fact]
    public void HugeMemberNameIsQuotedTruncated()
    {
        var name = new string('x', 6_000_000);
        var json = "{\"VirtualMachine\":{\"" + name + "\":1}}";

        var ex = Assert.Throws<HcsException>(() => HcsJson.ParseComputeSystem(json));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.True(ex.Message.Length < 1000, $"a {ex.Message.Length}-char message");
        Assert.Contains($"…({name.Length} chars)", ex.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.StartsWith("$.VirtualMachine['" + new string('x', ErrorText.MaxQuotedChars), Detail(ex), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"Type":"%"}""", "Attachment", "unknown value")]
    [InlineData("""{"Signal":"%"}""", "SignalProcessOptions", "unknown value")]
    [InlineData("""{"SystemId":"vm","ActivityId":"%"}""", "CrashReport", "is not a valid GUID")]
    [InlineData("""{"Timestamp":"%"}""", "Statistics", "is not a valid date-time")]
    [InlineData("""{"VirtualMachine":{"Devices":{"Scsi":{"0":{"Attachments":{"%":{}}}}}}}""", "ComputeSystem", "is not a LUN")]
    [InlineData("""{"VirtualMachine":{"Devices":{"ComPorts":{"%":{},"%":{}}}}}""", "ComputeSystem", "duplicate key")]
    public void HugeStringValueIsQuotedTruncated(string template, string type, string keyword)
    {
        var value = new string('v', 1_000_000);

        var ex = Assert.Throws<HcsException>(() => Parsers.Parse(type, template.Replace("%", value, StringComparison.Ordinal)));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.Contains(keyword, ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 1000, $"a {ex.Message.Length}-char message");
        Assert.Contains($"…({value.Length} chars)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeNumberIsQuotedTruncated()
    {
        var digits = new string('9', 100_000);

        var ex = Assert.Throws<HcsException>(() => HcsJson.ParseComputeSystem("{\"VirtualMachine\":{\"ComputeTopology\":{\"Memory\":{\"SizeInMB\":" + digits + "}}}}"));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.True(ex.Message.Length < 1000, $"a {ex.Message.Length}-char message");
    }

    [Theory]
    [InlineData("short", "short")]
    [InlineData("", "")]
    public void TruncateLeavesShortValuesAlone(string value, string expected) => Assert.Equal(expected, ErrorText.Truncate(value));

    [Fact]
    public void TruncateNeverSplitsASurrogatePair()
    {
        var value = new string('a', ErrorText.MaxQuotedChars - 1) + "\ud83d\ude00" + new string('b', 100);

        var quoted = ErrorText.Truncate(value);

        Assert.Equal(new string('a', ErrorText.MaxQuotedChars - 1) + $"…({value.Length} chars)", quoted);
    }

    private static string Detail(HcsException ex) => Assert.Single(ex.Result.ErrorEvents!).Message!;
}
