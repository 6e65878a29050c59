// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Daemon.Tests;

/// <summary>The hcsd executable with its state directory on a small tmpfs that the test fills.</summary>
public sealed class HcsdFullDiskTests
{
    private const string Idle = """
        {"SchemaVersion":{"Major":2,"Minor":2},"Owner":"hcsd-tests","VirtualMachine":{"Chipset":{"LinuxKernelDirect":{
        "KernelFilePath":"/fake/vmlinuz","KernelCmdLine":"hcstest=idle"}},"ComputeTopology":{"Memory":{"SizeInMB":256},"Processor":{"Count":1}}}}
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HcsClient Connect(HcsdProcess hcsd) =>
        HcsClient.Connect(new HcsConnectOptions { Socket = hcsd.Socket, Mode = HcsServiceMode.Daemon, ClientName = "full-disk" });

    [Fact]
    public async Task Hcsd_OnAFullStateDisk_RefusesCreateWithDiskFull_NamingTheStateDirectory()
    {
        using var disk = new SmallDisk();
        await using var hcsd = await HcsdProcess.StartAsync(disk.Root);
        using var client = Connect(hcsd);
        await using var kept = await ComputeSystem.CreateAsync(client, "kept", Idle, Ct);
        disk.Fill();

        var refused = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(client, "unrecorded", Idle, Ct));

        Assert.Equal(HResults.ERROR_DISK_FULL, refused.HResult);
        Assert.Contains(hcsd.StateDirectory, refused.Message, StringComparison.Ordinal);
        var notFound = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.OpenAsync(client, "unrecorded", Ct));
        Assert.Equal(HResults.HCS_E_SYSTEM_NOT_FOUND, notFound.HResult);
    }

    [Fact]
    public async Task Hcsd_RestartedWithItsStateDiskFull_StartsReadOnly_ServesQueries_AndRefusesWritesWithDiskFull()
    {
        using var disk = new SmallDisk();
        await using (var hcsd = await HcsdProcess.StartAsync(disk.Root))
        {
            using var client = Connect(hcsd);
            await using var kept = await ComputeSystem.CreateAsync(client, "kept", Idle, Ct);
            Assert.Equal(0, await hcsd.TerminateAsync());
        }

        disk.Fill();
        await using var again = await HcsdProcess.StartAsync(disk.Root);

        Assert.True(again.Log.Contains("hcsd serves read-only", StringComparison.Ordinal) && again.Log.Contains("ERROR_DISK_FULL", StringComparison.Ordinal), again.Log);
        using var reader = Connect(again);
        Assert.Contains(await ComputeSystem.EnumerateAsync(reader, cancellationToken: Ct), p => p.Id == "kept");
        await using var reopened = await ComputeSystem.OpenAsync(reader, "kept", Ct);
        Assert.NotNull(await reopened.GetPropertiesAsync(cancellationToken: Ct));
        var e = await Assert.ThrowsAsync<HcsException>(() => ComputeSystem.CreateAsync(reader, "new", Idle, Ct));
        Assert.Equal(HResults.ERROR_DISK_FULL, e.HResult);
    }
}
