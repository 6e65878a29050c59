// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text.Json;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Modify on real VMs through the engine: the memory size through the balloon, SCSI attachments hot-added and removed;
/// checked in QEMU (the diagnostics monitor) and in the guest (its console). One VM at a time.
/// </summary>
public sealed class QemuModifyTests : IAsyncLifetime
{
    private const long MiB = 1024 * 1024;
    private QemuEngineHarness _vms = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _vms = new QemuEngineHarness();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _vms.DisposeAsync();

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static ModifySettingRequest Memory(string settings, ModifyRequestType? type = ModifyRequestType.Update) =>
        new() { ResourcePath = "VirtualMachine/ComputeTopology/Memory/SizeInMB", RequestType = type, Settings = Json(settings) };

    private static ModifySettingRequest Scsi(string controller, string lun, ModifyRequestType type, Attachment? attachment = null) => new()
    {
        ResourcePath = $"VirtualMachine/Devices/Scsi/{controller}/Attachments/{lun}",
        RequestType = type,
        Settings = attachment is null ? null : HcsJson.SerializeToElement(attachment),
    };

    private static void AssertInvalidJson(HcsException e, string path)
    {
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains(path + ":", e.Result.ErrorMessage, StringComparison.Ordinal);
    }

    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }

            Assert.True(clock.Elapsed < QemuEngineHarness.Boot, $"{what}; last seen: {value}");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task MemorySize_Update_InflatesTheBalloon_AndTheMemoryPropertyFollows()
    {
        await using var vm = await _vms.CreateAsync("balloon", QemuEngineHarness.Document("idle"));
        await vm.StartAsync(Ct);
        await _vms.WaitForConsoleAsync("balloon", "hcs-guest: idle");
        var before = (await vm.GetPropertiesAsync([SystemPropertyType.Memory], Ct)).Memory!;
        Assert.Equal(256ul, before.VirtualMachineMemory!.AssignedMemory);
        Assert.Equal(256ul, before.VirtualMachineMemory.ReservedMemory);

        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Memory("512"), Ct)), "$.Settings"); // above the boot size
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Memory("0"), Ct)), "$.Settings");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Memory("-64"), Ct)), "$.Settings");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Memory("\"128\""), Ct)), "$.Settings");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Memory("128", ModifyRequestType.Add), Ct)), "$.RequestType");

        await vm.ModifyAsync(Memory("160"), Ct);

        await using var qmp = await _vms.DiagnosticsAsync("balloon");
        await EventuallyAsync(async () => (await qmp.ExecuteAsync("query-balloon", cancellationToken: Ct)).GetProperty("actual").GetInt64(),
            actual => actual == 160 * MiB, "query-balloon never reported 160 MB");
        var after = await EventuallyAsync(async () => (await vm.GetPropertiesAsync([SystemPropertyType.Memory], Ct)).Memory!.VirtualMachineMemory!,
            memory => memory.AssignedMemory == 160 && memory.AvailableMemory is > 0 and <= 160,
            "the Memory property never reported 160 MB assigned, and the guest's available memory within them");
        Assert.Equal(256ul, after.ReservedMemory);
        Assert.False(after.DmOperationInProgress);

        await vm.ModifyAsync(Memory("256"), Ct); // deflate again
        await EventuallyAsync(async () => (await vm.GetPropertiesAsync([SystemPropertyType.Memory], Ct)).Memory!.VirtualMachineMemory!.AssignedMemory,
            assigned => assigned == 256, "the balloon never deflated");
        await vm.TerminateAsync(Ct);
    }

    [Fact]
    public async Task ScsiAttachments_HotAddedAndRemoved_AppearInQemuAndInTheGuest_IncludingOnesFromTheCreateDocument()
    {
        var first = Path.Combine(_vms.Scratch, "first.img");
        var second = Path.Combine(_vms.Scratch, "second,disk.img"); // a comma: no escaping problem in blockdev-add's JSON
        foreach (var image in new[] { first, second })
        {
            await using var file = File.Create(image);
            file.SetLength(8 * MiB);
        }

        var devices = new Devices
        {
            Scsi = new Dictionary<string, Scsi>
            {
                ["primary"] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.VirtualDisk, Path = first } } },
            },
        };
        await using var vm = await _vms.CreateAsync("disks", QemuEngineHarness.Document("disks", devices));
        await vm.StartAsync(Ct);
        await _vms.WaitForConsoleAsync("disks", "hcs-guest: disks [sda]");
        await using var qmp = await _vms.DiagnosticsAsync("disks");
        async Task<string[]> AttachedAsync() =>
            [.. (await qmp.ExecuteAsync("query-block", cancellationToken: Ct)).EnumerateArray().Select(b => b.GetProperty("qdev").GetString()!).Order()];
        Assert.Equal(["scsi0-0"], await AttachedAsync());

        var mark = (await _vms.ConsoleAsync("disks")).Length;
        await vm.ModifyAsync(Scsi("primary", "3", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = second, ReadOnly = true }), Ct);
        Assert.Equal(["scsi0-0", "scsi0-3"], await AttachedAsync());
        var block = (await qmp.ExecuteAsync("query-block", cancellationToken: Ct)).EnumerateArray().Single(b => b.GetProperty("qdev").GetString() == "scsi0-3");
        Assert.Equal(second, block.GetProperty("inserted").GetProperty("file").GetString());
        Assert.True(block.GetProperty("inserted").GetProperty("ro").GetBoolean());
        await _vms.WaitForConsoleAsync("disks", "hcs-guest: disks [sda sdb]", mark);

        var inUse = await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("primary", "3", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = first }), Ct));
        Assert.Equal(HResults.ERROR_ALREADY_EXISTS, inUse.HResult);
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("secondary", "1", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = first }), Ct)), "$.ResourcePath");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("primary", "1", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = "disk.img" }), Ct)), "$.Settings.Path");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("primary", "1", ModifyRequestType.Add, new Attachment { Type = AttachmentType.PassThru, Path = first }), Ct)), "$.Settings.Type");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("primary", "1", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = first, CachingMode = CachingMode.Cached }), Ct)),
            "$.Settings.CachingMode");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(new ModifySettingRequest { ResourcePath = "VirtualMachine/Devices/NetworkAdapters/nic0", RequestType = ModifyRequestType.Add }, Ct)), "$.ResourcePath");
        var missing = await Assert.ThrowsAsync<HcsException>(() =>
            vm.ModifyAsync(Scsi("primary", "1", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = first + ".nothing" }), Ct));
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, missing.HResult);
        Assert.Equal(["scsi0-0", "scsi0-3"], await AttachedAsync()); // refused requests changed nothing

        mark = (await _vms.ConsoleAsync("disks")).Length;
        await vm.ModifyAsync(Scsi("primary", "0", ModifyRequestType.Remove), Ct); // attached at create
        Assert.Equal(["scsi0-3"], await AttachedAsync());
        await vm.ModifyAsync(Scsi("primary", "3", ModifyRequestType.Remove), Ct);
        Assert.Empty(await AttachedAsync());
        await _vms.WaitForConsoleAsync("disks", "hcs-guest: disks []", mark);
        var notThere = await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(Scsi("primary", "3", ModifyRequestType.Remove), Ct));
        Assert.Equal(HResults.ERROR_NOT_FOUND, notThere.HResult);

        // The LUN is free again, and its node name reusable.
        await vm.ModifyAsync(Scsi("primary", "0", ModifyRequestType.Add, new Attachment { Type = AttachmentType.VirtualDisk, Path = first }), Ct);
        Assert.Equal(["scsi0-0"], await AttachedAsync());
        await vm.TerminateAsync(Ct);
    }
}
