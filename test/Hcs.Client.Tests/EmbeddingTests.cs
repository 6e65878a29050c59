// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Contracts;

namespace Hcs.Client.Tests;

/// <summary>
/// <see cref="HcsClient.Connect(HcsConnectOptions?)"/> embeds an engine only in an application that references the
/// host package. This test project references Hcs.Client (and the fake backend) but not Hcs.Host, so it is a
/// client-only application; <c>Hcs.Client.EmbedProbe</c> is one that references both and never names a host type.
/// </summary>
public sealed class EmbeddingTests
{
    private static readonly string s_missingSocket = Path.Combine(Path.GetTempPath(), $"hcs-embedding-{Guid.NewGuid():N}.sock");

    [Fact]
    public void ClientOnly_CannotEmbed_AndTheErrorNamesThePackageToReference()
    {
        var embedded = Assert.Throws<HcsException>(() => HcsClient.Connect(new HcsConnectOptions { Socket = s_missingSocket, Mode = HcsServiceMode.Embedded }));
        var auto = Assert.Throws<HcsException>(() => HcsClient.Connect(new HcsConnectOptions { Socket = s_missingSocket }));

        Assert.False(HcsEmbedding.IsAvailable);
        Assert.Equal(HResults.HCS_E_SERVICE_NOT_AVAILABLE, embedded.HResult);
        Assert.Equal(HResults.HCS_E_SERVICE_NOT_AVAILABLE, auto.HResult);
        Assert.Contains("reference the Hcs.Host package to embed one", embedded.Message, StringComparison.Ordinal);
        Assert.Contains("reference the Hcs.Host package to embed one", auto.Message, StringComparison.Ordinal);
        Assert.Contains($"no hcsd is listening at {s_missingSocket}", auto.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == HcsEmbedding.HostPackage);
    }

    [Fact]
    public async Task ConnectOrEmbed_EmbedsTheEngineItIsGiven_AndDisposesItWithTheClient()
    {
        var engine = new ComputeEngine([new FakeBackend()]);
        var made = 0;
        IComputeService Make()
        {
            made++;
            return engine;
        }

        await using (var client = HcsClient.ConnectOrEmbed(new HcsConnectOptions { Socket = s_missingSocket }, Make))
        {
            Assert.False(client.IsDaemon);
            Assert.Contains("SupportedSchemaVersions", await client.Session.GetServicePropertiesAsync(null, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }

        Assert.Equal(1, made);
        var e = Assert.Throws<HcsException>(() => HcsClient.Connect(engine, "after"));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
    }

    [Fact]
    public async Task WithTheHostPackage_ConnectEmbeds_ThoughNoHostTypeWasUsedBefore()
    {
        var probe = Path.Combine(SiblingOutput("Hcs.Client.EmbedProbe"), "Hcs.Client.EmbedProbe");
        var start = new ProcessStartInfo(probe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { s_missingSocket, "Daemon", "Auto", "Embedded" })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        var lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        string[] expected =
        [
            "host loaded before connect: False",
            // Reaching hcsd never loads the host package; embedding loads it by name.
            "Daemon: failed HCS_E_SERVICE_DISCONNECT | host loaded: False",
            "Auto: embedded True | host loaded: True",
            "Embedded: embedded True | host loaded: True",
        ];
        Assert.True(process.ExitCode == 0, $"{probe} exited with {process.ExitCode}: {await output}{await error}");
        Assert.Equal(expected, lines);
    }

    /// <summary>The output directory of test project <paramref name="name"/>, built in this test's configuration and framework.</summary>
    private static string SiblingOutput(string name)
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var test = output.Parent!.Parent!.Parent!;
        return Path.Combine(test.Parent!.FullName, name, "bin", output.Parent.Name, output.Name);
    }
}
