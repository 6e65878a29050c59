// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Schema;
using Xunit;

namespace Hcs.Daemon.Tests;

/// <summary>
/// A real hcsd with the runc backend and a client that is uid 65534 in the socket's group: host paths it names are
/// used with its credentials (docs/security.md, "A caller of hcsd: host paths").
/// </summary>
public sealed class HcsdHostPathTests
{
    private const uint Nobody = 65534;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ANonRootClientInTheSocketGroup_CannotMapARootOnlyDirectory_AndNothingIsMounted()
    {
        Requires.Containers();
        var directory = DaemonFakeFixture.SearchableTempDirectory();
        var secret = Directory.CreateDirectory(Path.Combine(directory, "secret")).FullName;
        File.WriteAllText(Path.Combine(secret, "key"), "root only");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var hcsd = await HcsdProcess.StartAsync(directory, "--backends", "runc", "--socket-group", Nobody.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using var nobody = HcsClient.Connect(RemoteService.Connect(hcsd.Socket, _ => ValueTask.FromResult(PeerIdentity.ConnectAs(hcsd.Socket, Nobody, Nobody))), "nobody");
        var document = HcsJson.Serialize(new Schema.ComputeSystem
        {
            Owner = "hcsd-host-path-tests",
            SchemaVersion = new Schema.Version { Major = 2, Minor = 1 },
            Container = new Container
            {
                Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] },
                MappedDirectories = [new MappedDirectory { HostPath = secret, ContainerPath = "/secret", ReadOnly = true }],
            },
        });

        var e = await Assert.ThrowsAsync<HcsException>(async () =>
        {
            await using var system = await nobody.Session.CreateSystemAsync("hostpath-" + Guid.NewGuid().ToString("N")[..12], document, Ct);
            await system.WaitForCreatedAsync(Ct);
        });

        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        Assert.Contains(secret, e.Message, StringComparison.Ordinal);
        Assert.Contains("uid 65534", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(directory, StringComparison.Ordinal));
    }
}
