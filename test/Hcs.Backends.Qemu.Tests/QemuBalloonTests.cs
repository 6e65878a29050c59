// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The memory balloon (<see cref="QemuBalloon"/>): Modify of the memory size and the <c>Memory</c> property, against a scripted QMP server.</summary>
public sealed class QemuBalloonTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const long MiB = 1024 * 1024;

    private static ModifySettingRequest Size(string json, ModifyRequestType? type = ModifyRequestType.Update)
    {
        using var document = JsonDocument.Parse(json);
        return new() { ResourcePath = "VirtualMachine/ComputeTopology/Memory/SizeInMB", RequestType = type, Settings = document.RootElement.Clone() };
    }

    private static async Task<(ScriptedQmpServer Server, Task Serving, QmpClient Qmp)> ConnectAsync(QmpScript script)
    {
        var server = script.End().Server();
        var serving = server.RunAsync(Ct);
        return (server, serving, await QmpClient.ConnectAsync(server.ClientStream, Ct));
    }

    /// <summary>QEMU 7.2's replies for the <c>Memory</c> property (<c>guest-stats</c> with <c>last-update</c> 0 until the guest driver reported).</summary>
    private static QmpScript Memory(QmpScript script, long actualMb, long? availableMb) => script
        .Command("query-balloon", reply: new JsonObject { ["actual"] = actualMb * MiB })
        .Command("query-memory-size-summary", reply: new JsonObject { ["base-memory"] = 256 * MiB })
        .Command("qom-get", new JsonObject { ["path"] = "/machine/peripheral/balloon0", ["property"] = "guest-stats" }, new JsonObject
        {
            ["stats"] = new JsonObject { ["stat-available-memory"] = availableMb is { } mb ? mb * MiB : -1, ["stat-free-memory"] = -1 },
            ["last-update"] = availableMb is null ? 0 : 1764064800,
        });

    [Fact]
    public async Task SetSize_MovesTheBalloon_AndTheMemoryPropertyShowsTheGuestFollowing()
    {
        var script = Memory(new QmpScript(), actualMb: 256, availableMb: null)
            .Command("balloon", new JsonObject { ["value"] = 128 * MiB });
        var (_, serving, qmp) = await ConnectAsync(Memory(script, actualMb: 128, availableMb: 100));
        await using var _ = qmp;
        var balloon = new QemuBalloon(qmp, memoryMb: 256, targetMb: 256);

        var before = (await balloon.MemoryAsync(Ct))!;
        Assert.Equal(1u, before.VirtualNodeCount);
        Assert.Equal(((ulong?)256, (ulong?)256, (int?)null, (bool?)false, (bool?)false), (before.VirtualMachineMemory!.AssignedMemory, before.VirtualMachineMemory.ReservedMemory,
            before.VirtualMachineMemory.AvailableMemory, before.VirtualMachineMemory.DmOperationInProgress, before.VirtualMachineMemory.BalancingEnabled));

        await balloon.SetAsync(Size("128"), Ct);
        Assert.Equal(128ul, balloon.TargetMb);
        var after = (await balloon.MemoryAsync(Ct))!.VirtualMachineMemory!;
        Assert.Equal(((ulong?)128, (ulong?)256, (int?)100, (bool?)false), (after.AssignedMemory, after.ReservedMemory, after.AvailableMemory, after.DmOperationInProgress));
        await serving;
    }

    [Fact]
    public async Task TheGuestNotThereYet_IsAnOperationInProgress_AndQemuNotAnswering_IsNoMemoryProperty()
    {
        var script = new QmpScript()
            .Command("query-balloon", reply: new JsonObject { ["actual"] = 256 * MiB })
            .Command("query-memory-size-summary", reply: new JsonObject { ["base-memory"] = 256 * MiB, ["plugged-memory"] = 0 })
            .Command("qom-get", new JsonObject { ["path"] = "/machine/peripheral/balloon0", ["property"] = "guest-stats" },
                new JsonObject { ["stats"] = new JsonObject(), ["last-update"] = 0 })
            .Error("query-balloon", null, "DeviceNotActive", "No balloon device has been activated");
        var (_, serving, qmp) = await ConnectAsync(script);
        await using var _ = qmp;
        var balloon = new QemuBalloon(qmp, memoryMb: 256, targetMb: 64);

        Assert.True((await balloon.MemoryAsync(Ct))!.VirtualMachineMemory!.DmOperationInProgress);
        Assert.Null(await balloon.MemoryAsync(Ct));
        await serving;
    }

    [Theory]
    [InlineData("0", ModifyRequestType.Update, "$.Settings")]
    [InlineData("257", ModifyRequestType.Update, "$.Settings")]
    [InlineData("128.5", ModifyRequestType.Update, "$.Settings")]
    [InlineData("\"128\"", null, "$.Settings")]
    [InlineData("128", ModifyRequestType.Add, "$.RequestType")]
    public async Task SizesTheBalloonCannotReach_AreRefusedByName_WithoutAQmpCommand(string settings, ModifyRequestType? type, string member)
    {
        var (server, serving, qmp) = await ConnectAsync(new QmpScript());
        await using var _ = qmp;
        var balloon = new QemuBalloon(qmp, memoryMb: 256, targetMb: 256);

        var e = await Assert.ThrowsAsync<HcsException>(() => balloon.SetAsync(Size(settings, type), Ct));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains(member, e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(256ul, balloon.TargetMb);
        await serving;
        Assert.Single(server.Received);
    }
}
