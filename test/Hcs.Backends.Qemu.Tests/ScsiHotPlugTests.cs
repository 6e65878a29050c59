// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>SCSI hot-plug (<see cref="ScsiHotPlug"/>): names and the QMP command sequence, against a scripted QMP server.</summary>
public sealed class ScsiHotPlugTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-scsi-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Controllers "a" (scsi0, empty) and "b" (scsi1, a disk at LUN 0).</summary>
    private VirtualMachine Vm => new()
    {
        Devices = new Devices
        {
            Scsi = new Dictionary<string, Scsi>
            {
                ["a"] = new(),
                ["b"] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.VirtualDisk, Path = Image("boot.raw") } } },
            },
        },
    };

    private string Image(string name)
    {
        var path = Path.Combine(_dir, name);
        if (!File.Exists(path))
        {
            File.WriteAllBytes(path, new byte[4096]);
        }

        return path;
    }

    private static ModifySettingRequest Request(ModifyRequestType type, Attachment? settings = null)
    {
        using var json = settings is null ? null : JsonDocument.Parse(HcsJson.Serialize(settings));
        return new() { RequestType = type, Settings = json?.RootElement.Clone() };
    }

    private static async Task<(ScriptedQmpServer Server, Task Serving, QmpClient Qmp)> ConnectAsync(QmpScript script, Func<JsonObject, Task>? onReceived = null)
    {
        var server = script.End().Server(onReceived);
        var serving = server.RunAsync(Ct);
        return (server, serving, await QmpClient.ConnectAsync(server.ClientStream, Ct));
    }

    [Fact]
    public async Task AddThenRemove_SendsBlockdevAndDeviceCommands_UnderTheScsiNLunName_AndWaitsForDeviceDeleted()
    {
        var path = Image("data.qcow2");
        ScsiHotPlug? scsi = null;
        var script = new QmpScript()
            .Command("blockdev-add", new JsonObject
            {
                ["driver"] = "qcow2",
                ["node-name"] = "scsi1-3",
                ["read-only"] = true,
                ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = path, ["read-only"] = true },
            })
            .Command("device_add", new JsonObject { ["driver"] = "scsi-hd", ["id"] = "scsi1-3", ["bus"] = "scsi1.0", ["lun"] = 3, ["drive"] = "scsi1-3" })
            .Command("device_del", new JsonObject { ["id"] = "scsi1-3" })
            .Event("DEVICE_DELETED", new JsonObject { ["device"] = "scsi1-3", ["path"] = "/machine/peripheral/scsi1-3" })
            .Command("blockdev-del", new JsonObject { ["node-name"] = "scsi1-3" });
        var (server, serving, qmp) = await ConnectAsync(script, command =>
        {
            // QEMU may report DEVICE_DELETED before device_del's return: the Remove must already be listening.
            if (command["execute"]!.GetValue<string>() == "device_del")
            {
                scsi!.DeviceDeleted("scsi1-3");
            }

            return Task.CompletedTask;
        });
        await using var _ = qmp;
        scsi = new ScsiHotPlug(qmp, "vm1", Vm, null, QemuCommandLine.ScsiSlots(Vm));
        Assert.Equal([new ScsiSlot("scsi1", 0, "scsi-hd")], scsi.Attached);

        await scsi.ModifyAsync(Request(ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = path, ReadOnly = true }), "b", "3", Ct);
        Assert.Equal([new ScsiSlot("scsi1", 0, "scsi-hd"), new ScsiSlot("scsi1", 3, "scsi-hd")], scsi.Attached.OrderBy(s => s.Lun));

        await scsi.ModifyAsync(Request(ModifyRequestType.Remove), "b", "3", Ct);
        Assert.Equal([new ScsiSlot("scsi1", 0, "scsi-hd")], scsi.Attached);
        await serving;
        Assert.Equal(5, server.Received.Count);
    }

    [Fact]
    public async Task Add_WhenQemuRefusesTheDevice_DeletesTheBlockNode_AndFreesTheLun()
    {
        var path = Image("cd.iso");
        var script = new QmpScript()
            .Command("blockdev-add", new JsonObject
            {
                ["driver"] = "raw",
                ["node-name"] = "scsi0-0",
                ["read-only"] = true,
                ["file"] = new JsonObject { ["driver"] = "file", ["filename"] = path, ["read-only"] = true },
            })
            .Error("device_add", new JsonObject { ["driver"] = "scsi-cd", ["id"] = "scsi0-0", ["bus"] = "scsi0.0", ["lun"] = 0, ["drive"] = "scsi0-0" },
                "GenericError", "no free LUN")
            .Command("blockdev-del", new JsonObject { ["node-name"] = "scsi0-0" });
        var (_, serving, qmp) = await ConnectAsync(script);
        await using var _ = qmp;
        var scsi = new ScsiHotPlug(qmp, "vm1", Vm, null, []);

        var e = await Assert.ThrowsAsync<HcsException>(() =>
            scsi.ModifyAsync(Request(ModifyRequestType.Add, new Attachment { Type = AttachmentType.Iso, Path = path }), "a", "0", Ct));
        Assert.Equal(HResults.E_FAIL, e.HResult);
        Assert.Contains("no free LUN", e.Message, StringComparison.Ordinal);
        Assert.Empty(scsi.Attached);
        await serving;
    }

    [Fact]
    public async Task Remove_OfADeviceQemuNoLongerHas_StillReleasesItsBlockNode()
    {
        var script = new QmpScript()
            .Error("device_del", new JsonObject { ["id"] = "scsi1-0" }, "DeviceNotFound", "Device 'scsi1-0' not found")
            .Command("blockdev-del", new JsonObject { ["node-name"] = "scsi1-0" });
        var (_, serving, qmp) = await ConnectAsync(script);
        await using var _ = qmp;
        var scsi = new ScsiHotPlug(qmp, "vm1", Vm, null, QemuCommandLine.ScsiSlots(Vm));

        await scsi.ModifyAsync(Request(ModifyRequestType.Remove), "b", "0", Ct);
        Assert.Empty(scsi.Attached);
        await serving;
    }

    [Fact]
    public async Task RequestsItCannotHonour_AreRefusedByName_WithoutAQmpCommand()
    {
        var (server, serving, qmp) = await ConnectAsync(new QmpScript());
        await using var _ = qmp;
        var scsi = new ScsiHotPlug(qmp, "vm1", Vm, null, QemuCommandLine.ScsiSlots(Vm));
        var disk = new Attachment { Type = AttachmentType.VirtualDisk, Path = Image("other.raw") };

        var inUse = await Assert.ThrowsAsync<HcsException>(() => scsi.ModifyAsync(Request(ModifyRequestType.Add, disk), "b", "0", Ct));
        Assert.Equal(HResults.ERROR_ALREADY_EXISTS, inUse.HResult);
        var empty = await Assert.ThrowsAsync<HcsException>(() => scsi.ModifyAsync(Request(ModifyRequestType.Remove), "a", "5", Ct));
        Assert.Equal(HResults.ERROR_NOT_FOUND, empty.HResult);
        foreach (var (controller, lun, type) in new[] { ("c", "0", ModifyRequestType.Add), ("a", "01", ModifyRequestType.Add), ("a", "0", ModifyRequestType.Update) })
        {
            var refused = await Assert.ThrowsAsync<HcsException>(() => scsi.ModifyAsync(Request(type, disk), controller, lun, Ct));
            Assert.Equal(HResults.HCS_E_INVALID_JSON, refused.HResult);
        }

        var missing = await Assert.ThrowsAsync<HcsException>(() =>
            scsi.ModifyAsync(Request(ModifyRequestType.Add, disk with { Path = Path.Combine(_dir, "missing.raw") }), "a", "1", Ct));
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, missing.HResult);
        Assert.Equal([new ScsiSlot("scsi1", 0, "scsi-hd")], scsi.Attached);
        await serving;
        Assert.Single(server.Received); // qmp_capabilities only
    }
}
