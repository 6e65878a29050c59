// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.IO.Compression;
using System.Text.Json;
using System.Xml.Linq;
using Hcs.TestKit;

namespace Hcs.NuGet.Tests;

/// <summary>
/// The NuGet packages Hcs.Client and Hcs.Host (docs/packages.md): what they carry, and a fresh console project that
/// restores them from a local feed and runs a fake system with the engine embedded.
/// </summary>
public sealed class PackageTests(PackedFeed feed) : IClassFixture<PackedFeed>
{
    private static readonly XNamespace s_nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private static readonly string[] s_client = ["Hcs.Client", "Hcs.Contracts", "Hcs.Protocol", "Hcs.Schema"];

    private static readonly string[] s_host = ["Hcs.Host", "Hcs.Engine", "Hcs.State", "Hcs.Backends.Fake", "Hcs.Backends.Qemu", "Hcs.Backends.Runc", "Hcs.Linux", "Hcs.Shim.Protocol"];

    [Theory]
    [InlineData("Hcs.Client")]
    [InlineData("Hcs.Host")]
    public async Task EachPackage_CarriesItsAssembliesWithXmlDocs_TheReadme_TheVersion_AndTheCommit(string id)
    {
        var assemblies = id == "Hcs.Client" ? s_client : s_host;
        using var package = ZipFile.OpenRead(feed.Package(id));
        var entries = package.Entries.Select(e => e.FullName).ToHashSet();
        var nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open()).Root!.Element(s_nuspec + "metadata")!;

        Assert.Equal(assemblies.SelectMany(a => new[] { $"lib/net10.0/{a}.dll", $"lib/net10.0/{a}.xml" }).Order(),
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.Contains("README.md", entries);
        Assert.Equal("README.md", nuspec.Element(s_nuspec + "readme")?.Value);
        Assert.Equal(id, nuspec.Element(s_nuspec + "id")?.Value);
        Assert.Equal(feed.Version, nuspec.Element(s_nuspec + "version")?.Value);
        Assert.Equal("MIT", nuspec.Element(s_nuspec + "license")?.Value);
        Assert.False(string.IsNullOrWhiteSpace(nuspec.Element(s_nuspec + "description")?.Value));
        Assert.Contains("hcs", nuspec.Element(s_nuspec + "tags")?.Value.Split(' ') ?? []);
        var repository = nuspec.Element(s_nuspec + "repository")!;
        Assert.Equal("git", repository.Attribute("type")?.Value);
        var (_, head) = await PackedFeed.RunAsync(Repository.Root, "git", ["rev-parse", "HEAD"], TimeSpan.FromSeconds(30));
        Assert.Equal(head.Trim(), repository.Attribute("commit")?.Value);

        // The symbols package has every shipped assembly's PDB.
        using var symbols = ZipFile.OpenRead(feed.Package(id, "snupkg"));
        Assert.Equal(assemblies.Select(a => $"lib/net10.0/{a}.pdb").Order(),
            symbols.Entries.Select(e => e.FullName).Where(e => e.EndsWith(".pdb", StringComparison.Ordinal)).Order());
    }

    [Fact]
    public void TheDependencies_AreHcsClientForTheHost_AndThePackagesTheBundledProjectsUse()
    {
        Assert.Equal(["Google.Protobuf", "Grpc.Core.Api", "Grpc.Net.Client"], Dependencies("Hcs.Client").Keys.Order());
        var host = Dependencies("Hcs.Host");
        Assert.Equal(["Hcs.Client", "Microsoft.Data.Sqlite.Core", "Microsoft.Extensions.Logging.Abstractions", "SQLitePCLRaw.provider.sqlite3"], host.Keys.Order());
        Assert.Equal(feed.Version, host["Hcs.Client"]);
    }

    [Fact]
    public void TheHostPackage_CarriesHcsShim_AsTheLinuxX64NativeAsset_AndCopiesItBesideTheProgram()
    {
        using var package = ZipFile.OpenRead(feed.Package("Hcs.Host"));
        var shim = package.GetEntry("runtimes/linux-x64/native/hcs-shim");

        Assert.NotNull(shim);
        Assert.Equal(new FileInfo(Repository.Path("artifacts", "shim", "hcs-shim")).Length, shim.Length);
        Assert.NotNull(package.GetEntry("buildTransitive/Hcs.Host.targets"));
    }

    [Fact]
    public async Task AFreshConsoleProject_RestoresThePackagesFromTheLocalFeed_AndRunsAFakeSystemEmbedded()
    {
        // nuget.org for the dependencies; the hcs packages only from the local feed (source mapping). The packages
        // folder is kept between runs for the dependencies, less the hcs packages, which must come from this feed.
        var packages = Directory.CreateDirectory(Repository.Path("artifacts", "nuget-test", "packages")).FullName;
        foreach (var id in new[] { "hcs.client", "hcs.host" })
        {
            if (Directory.Exists(Path.Combine(packages, id)))
            {
                Directory.Delete(Path.Combine(packages, id), recursive: true);
            }
        }

        var project = Directory.CreateTempSubdirectory("hcs-nuget-consumer-").FullName;
        try
        {
            WriteConsumer(project, packages);
            var root = Path.Combine(project, "hcs");
            var (code, output) = await PackedFeed.RunAsync(project, "dotnet", ["run", "-c", "Release", "--", root], TimeSpan.FromMinutes(10),
                new Dictionary<string, string> { ["HCS_SHIM"] = "" });

            Assert.True(code == 0, $"dotnet run exited with {code}:\n{output}");
            var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var bin = Path.Combine(project, "bin", "Release", "net10.0");
            Assert.Contains($"version {feed.Version}", lines);
            Assert.Contains("fake-1 Running", lines);
            Assert.Contains("fake-1 exited: ForcedExit", lines);
            Assert.Contains($"hcs-shim {Path.Combine(bin, "hcs-shim")}", lines);

            foreach (var id in new[] { "hcs.client", "hcs.host" })
            {
                var metadata = Path.Combine(packages, id, feed.Version, ".nupkg.metadata");
                using var json = JsonDocument.Parse(File.ReadAllBytes(metadata));
                Assert.Equal(Path.TrimEndingDirectorySeparator(feed.Directory), Path.TrimEndingDirectorySeparator(json.RootElement.GetProperty("source").GetString()!));
            }
        }
        finally
        {
            Directory.Delete(project, recursive: true);
        }
    }

    private void WriteConsumer(string project, string packages)
    {
        File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <config><add key="globalPackagesFolder" value="{packages}" /></config>
              <packageSources>
                <clear />
                <add key="local" value="{feed.Directory}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
              <packageSourceMapping>
                <packageSource key="local"><package pattern="Hcs.*" /></packageSource>
                <packageSource key="nuget.org"><package pattern="*" /></packageSource>
              </packageSourceMapping>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(project, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Hcs.Client" Version="{feed.Version}" />
                <PackageReference Include="Hcs.Host" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """);
        // An empty Directory.Build.props/.targets and global.json stop the search upwards (the temp directory is not
        // in the source tree, but be sure nothing of it applies).
        File.WriteAllText(Path.Combine(project, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(project, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(project, "Program.cs"), """
            using Hcs.Backends.Fake;
            using Hcs.Client;
            using Hcs.Engine.Backends;
            using Hcs.Host;
            using Hcs.Schema;
            using ComputeSystem = Hcs.Client.ComputeSystem;

            // Creates, starts and terminates a fake system with the engine inside this program.
            var root = args[0];
            var settings = new HostSettings
            {
                Socket = Path.Combine(root, "hcsd.sock"),
                RuntimeRoot = Path.Combine(root, "run"),
                StateDirectory = Path.Combine(root, "state"),
                Backends = ["fake"],
            };
            await using var client = EmbeddedHcs.Connect(new HcsConnectOptions { Mode = HcsServiceMode.Embedded, ClientName = "nuget-consumer" }, settings);
            var service = HcsJson.Deserialize<ServiceProperties>(await client.Session.GetServicePropertiesAsync(null, CancellationToken.None));
            Console.WriteLine($"version {HcsJson.Deserialize<BasicInformation>(service.Properties![0]).ServiceVersion}");
            Console.WriteLine($"hcs-shim {LinuxHost.LocateShim().Path}");
            await using var system = await ComputeSystem.CreateAsync(client, "fake-1", FakeDocuments.Vm());
            await system.StartAsync();
            Console.WriteLine($"{system.Id} {(await system.GetPropertiesAsync()).State}");
            await system.TerminateAsync();
            var exit = await system.WaitForExitAsync();
            Console.WriteLine($"{system.Id} exited: {exit.ExitType}");
            return 0;
            """);
    }

    private Dictionary<string, string> Dependencies(string id)
    {
        using var package = ZipFile.OpenRead(feed.Package(id));
        var nuspec = XDocument.Load(package.GetEntry($"{id}.nuspec")!.Open());
        return nuspec.Descendants(s_nuspec + "dependency").ToDictionary(d => d.Attribute("id")!.Value, d => d.Attribute("version")!.Value);
    }
}
