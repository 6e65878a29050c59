// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Save (a QEMU migration into a file, no shell) and restore at Start, on real VMs through the engine. One VM at a time;
/// only the first test waits for a full boot, the others pause the guest as soon as it started.
/// </summary>
public sealed class QemuSaveRestoreTests : IAsyncLifetime
{
    private QemuEngineHarness _vms = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _vms = new QemuEngineHarness();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _vms.DisposeAsync();

    private static SaveOptions ToFile(string path) => new() { SaveType = SaveType.ToFile, SaveStateFilePath = path };

    private static Schema.ComputeSystem Restoring(Schema.ComputeSystem document, string path) =>
        document with { VirtualMachine = document.VirtualMachine! with { RestoreState = new RestoreState { SaveStateFilePath = path } } };

    private static void AssertInvalidJson(HcsException e, string path)
    {
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains(path + ":", e.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SavedCountingGuest_StaysPausedAndResumable_AndRestoredIntoANewSystemContinuesCountingWithoutRebooting()
    {
        var state = Path.Combine(_vms.Scratch, "counter.state");
        var document = QemuEngineHarness.Document("counter");
        int last;
        await using (var source = await _vms.CreateAsync("source", document))
        {
            await source.StartAsync(Ct);
            await _vms.WaitForConsoleAsync("source", "hcs-guest: counter 2");
            await source.PauseAsync(cancellationToken: Ct);
            last = QemuEngineHarness.Counters(await _vms.ConsoleAsync("source"))[^1];

            await source.SaveAsync(ToFile(state), Ct);

            Assert.Equal(SystemState.Paused, (await source.GetPropertiesAsync(cancellationToken: Ct)).State);
            Assert.Equal([state], Directory.GetFiles(_vms.Scratch)); // renamed into place, no temporary file left
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state)); // guest RAM: the owner's only
            var again = await Assert.ThrowsAsync<HcsException>(() => source.SaveAsync(ToFile(state + ".2"), Ct));
            Assert.Equal(HResults.HCS_E_INVALID_STATE, again.HResult); // QEMU cannot save twice without running in between
            Assert.Equal([state], Directory.GetFiles(_vms.Scratch));

            await source.ResumeAsync(Ct); // a saved VM can go on running
            await _vms.WaitForConsoleAsync("source", $"hcs-guest: counter {last + 1}");
            await source.TerminateAsync(Ct);
        }

        await using var restored = await _vms.CreateAsync("restored", Restoring(document, state));
        await restored.StartAsync(Ct);
        Assert.Equal(SystemState.Running, (await restored.GetPropertiesAsync(cancellationToken: Ct)).State);
        var console = await _vms.WaitForConsoleAsync("restored", log => QemuEngineHarness.Counters(log).Count >= 2, "two counter lines");

        var counters = QemuEngineHarness.Counters(console);
        Assert.True(counters[0] > last, $"the restored guest printed counter {counters[0]} first; it had printed {last} before the save");
        Assert.Equal(counters[0] + 1, counters[1]);
        Assert.DoesNotContain("init reached", console, StringComparison.Ordinal); // not rebooted
        await restored.TerminateAsync(Ct);
    }

    [Fact]
    public async Task Save_WhileRunning_IsInvalidState_AndBadTargetsAreRefusedByName_LeavingTheVmPaused()
    {
        await using var vm = await _vms.CreateAsync("refusals", QemuEngineHarness.Document("idle"));
        await vm.StartAsync(Ct);
        var running = await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(ToFile(Path.Combine(_vms.Scratch, "running.state")), Ct));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, running.HResult);

        await vm.PauseAsync(cancellationToken: Ct);
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(ToFile(Path.Combine(_vms.Scratch, "no-such-dir", "vm.state")), Ct)),
            "$.SaveStateFilePath");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(ToFile("relative.state"), Ct)), "$.SaveStateFilePath");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(ToFile(_vms.Scratch), Ct)), "$.SaveStateFilePath");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => vm.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile }, Ct)), "$.SaveStateFilePath");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(
            () => vm.SaveAsync(new SaveOptions { SaveType = SaveType.AsTemplate, SaveStateFilePath = Path.Combine(_vms.Scratch, "t.state") }, Ct)), "$.SaveType");

        Assert.Empty(Directory.GetFileSystemEntries(_vms.Scratch));
        Assert.Equal(SystemState.Paused, (await vm.GetPropertiesAsync(cancellationToken: Ct)).State);
        await vm.ResumeAsync(Ct);
        Assert.Equal(SystemState.Running, (await vm.GetPropertiesAsync(cancellationToken: Ct)).State);
        await vm.TerminateAsync(Ct);
    }

    [Fact]
    public async Task Restore_FromAMissingForeignOrTruncatedFile_FailsCreateWithTheReason()
    {
        var document = QemuEngineHarness.Document("idle");
        var missing = await Assert.ThrowsAsync<HcsException>(() => _vms.CreateAsync("missing", Restoring(document, Path.Combine(_vms.Scratch, "nothing.state"))));
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, missing.HResult);
        Assert.Contains("$.VirtualMachine.RestoreState.SaveStateFilePath", missing.Result.ErrorMessage, StringComparison.Ordinal);

        var garbage = Path.Combine(_vms.Scratch, "garbage.state");
        await File.WriteAllTextAsync(garbage, string.Concat(Enumerable.Repeat("this is not a saved state\n", 100)), Ct);
        var foreign = await Assert.ThrowsAsync<HcsException>(() => _vms.CreateAsync("garbage", Restoring(document, garbage)));
        Assert.Equal(HResults.ERROR_INVALID_DATA, foreign.HResult);
        Assert.Contains("is not a saved state written by the QEMU backend", foreign.Result.ErrorMessage, StringComparison.Ordinal);

        // A header announcing more state than the file holds: a save that never completed.
        var header = new byte[64 + 2 + 8 + 100];
        "HCSQSAVE"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(12), 66);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(16), 1 << 20);
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(24), 256);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(40), 2);
        "{}"u8.CopyTo(header.AsSpan(64));
        "QEVM\0\0\0\u0003"u8.CopyTo(header.AsSpan(66));
        var partial = Path.Combine(_vms.Scratch, "partial.state");
        await File.WriteAllBytesAsync(partial, header, Ct);
        var truncated = await Assert.ThrowsAsync<HcsException>(() => _vms.CreateAsync("partial", Restoring(document, partial)));
        Assert.Equal(HResults.ERROR_INVALID_DATA, truncated.HResult);
        Assert.Contains("truncated", truncated.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_IntoAnotherVm_IsRefusedByName_AndAStateQemuCannotLoad_FailsStartWithQemusReason()
    {
        var state = Path.Combine(_vms.Scratch, "donor.state");
        var withScsi = QemuEngineHarness.Document("idle", new Devices { Scsi = new Dictionary<string, Scsi> { ["primary"] = new() } });
        await using (var donor = await _vms.CreateAsync("donor", withScsi))
        {
            await donor.StartAsync(Ct);
            await donor.PauseAsync(cancellationToken: Ct);
            await donor.SaveAsync(ToFile(state), Ct);
            await donor.TerminateAsync(Ct);
        }

        // Checked against the header before QEMU starts: another memory size, a missing controller.
        var bigger = withScsi with
        {
            VirtualMachine = withScsi.VirtualMachine! with
            {
                ComputeTopology = withScsi.VirtualMachine.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = 512 } },
            },
        };
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => _vms.CreateAsync("bigger", Restoring(bigger, state))),
            "$.VirtualMachine.ComputeTopology.Memory.SizeInMB");
        AssertInvalidJson(await Assert.ThrowsAsync<HcsException>(() => _vms.CreateAsync("no-scsi", Restoring(QemuEngineHarness.Document("idle"), state))),
            "$.VirtualMachine.Devices.Scsi");

        // A stream damaged after its header passes our checks; QEMU 7.2 rejects it and exits, and Start says why.
        var bytes = await File.ReadAllBytesAsync(state, Ct);
        var stream = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12));
        bytes.AsSpan(stream + 8, 64).Fill(0xEE);
        var damaged = Path.Combine(_vms.Scratch, "damaged.state");
        await File.WriteAllBytesAsync(damaged, bytes, Ct);
        await using var vm = await _vms.CreateAsync("damaged", Restoring(withScsi, damaged));
        var start = await Assert.ThrowsAsync<HcsException>(() => vm.StartAsync(Ct));
        Assert.Equal(HResults.ERROR_INVALID_DATA, start.HResult);
        Assert.Contains("QEMU could not load the saved state", start.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("load of migration failed", start.Result.ErrorMessage, StringComparison.Ordinal);
        var exit = await vm.WaitForExitAsync(Ct).WaitAsync(QemuEngineHarness.Boot, Ct);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
    }
}
