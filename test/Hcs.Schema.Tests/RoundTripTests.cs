// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema.Tests;

public sealed class RoundTripTests
{
    public static TheoryData<string> SampleNames()
    {
        var data = new TheoryData<string>();
        foreach (var sample in Samples.All)
        {
            data.Add(sample.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void FullyPopulatedRecordSurvivesSerialiseParseSerialise(string name)
    {
        var sample = Samples.Get(name);

        var json = sample.Serialize(sample.Value);
        var parsed = sample.Deserialize(json);
        var again = sample.Serialize(parsed);

        Assert.IsType(sample.Type, parsed);
        Assert.Equal(json, again);
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void SerialisedSampleIsCompactAndHasNoNulls(string name)
    {
        var sample = Samples.Get(name);

        var json = sample.Serialize(sample.Value);

        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", json, StringComparison.Ordinal);
        Assert.DoesNotContain("\": ", json, StringComparison.Ordinal);
    }

    [Fact]
    public void ParsedRecordWithoutCollectionsEqualsOriginal()
    {
        var original = Samples.LinuxKernelDirect;

        var parsed = HcsJson.Deserialize<LinuxKernelDirect>(HcsJson.Serialize(original));

        Assert.Equal(original, parsed);
    }
}
