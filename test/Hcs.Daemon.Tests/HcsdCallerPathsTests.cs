// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Daemon.Tests;

/// <summary>
/// A real hcsd with the QEMU backend, a client of uid 65534 in the socket group: the host paths its documents name are
/// used with its credentials, and hcsd's own socket cannot be named at all. No VM boots (each Create fails first).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HcsdCallerPathsTests
{
    private const uint Nobody = 65534;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Document(string comPort) => """
        {"SchemaVersion":{"Major":2,"Minor":2},"Owner":"hcsd-tests","VirtualMachine":{"Chipset":{"LinuxKernelDirect":{
        "KernelFilePath":"/fake/vmlinuz","KernelCmdLine":"hcstest=idle"}},"ComputeTopology":{"Memory":{"SizeInMB":256},"Processor":{"Count":1}},
        "Devices":{"ComPorts":{"1":{"NamedPipe":"COMPORT"}}}}}
        """.Replace("COMPORT", comPort, StringComparison.Ordinal);

    [Fact]
    public async Task ThroughHcsd_AComPortInARootOnlyDirectory_OrHcsdsOwnSocket_IsAccessDenied_ToUid65534_AndNothingChanges()
    {
        await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "qemu", "--socket-group", "nogroup");
        var secret = Path.Combine(hcsd.Directory, "secret");
        Directory.CreateDirectory(secret);
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var pipe = Path.Combine(secret, "com.sock");
        await using var client = HcsClient.Connect(
            RemoteService.Connect(hcsd.Socket, _ => ValueTask.FromResult(PeerIdentity.ConnectAs(hcsd.Socket, Nobody, Nobody))), "nobody");

        var denied = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(client, "com-secret", Document(pipe), Ct));
        var own = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(client, "com-hcsd", Document(hcsd.Socket), Ct));

        Assert.Equal(HResults.E_ACCESSDENIED, denied.HResult);
        Assert.Contains("$.VirtualMachine.Devices.ComPorts.1.NamedPipe", denied.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(pipe, denied.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("uid 65534", denied.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(secret));
        Assert.Equal(HResults.E_ACCESSDENIED, own.HResult);
        Assert.Contains(hcsd.Socket, own.Result.ErrorMessage, StringComparison.Ordinal);

        // hcsd's socket is still hcsd's: a new client is served.
        await using var root = HcsClient.Connect(RemoteService.Connect(hcsd.Socket), "root");
        Assert.Empty(await ComputeSystem.EnumerateAsync(root, cancellationToken: Ct));
    }
}
