// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>The one version of hcs (the repository's VERSION file) is the one the engine reports.</summary>
public sealed class ServiceVersionTests
{
    [Fact]
    public async Task GetServiceProperties_Basic_CarriesTheVersionFromTheVersionFile()
    {
        var expected = File.ReadAllText(VersionFile()).Trim();
        await using var engine = new ComputeEngine([new FakeBackend()]);
        await using var session = engine.OpenSession(new Contracts.ClientIdentity("version-test"));

        var properties = HcsJson.Deserialize<ServiceProperties>(await session.GetServicePropertiesAsync(null, TestContext.Current.CancellationToken));
        var basic = HcsJson.Deserialize<BasicInformation>(Assert.Single(properties.Properties!));

        Assert.Equal(expected, basic.ServiceVersion);
        Assert.Equal(expected, HcsVersion.Number);
        Assert.Matches(@"^\d+\.\d+\.\d+$", expected);
    }

    private static string VersionFile()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Hcs.slnx")))
            {
                return Path.Combine(dir.FullName, "VERSION");
            }
        }

        throw new InvalidOperationException($"no Hcs.slnx above {AppContext.BaseDirectory}");
    }
}
