// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Save and restore (<see cref="QemuSaveRestore"/>) without a VM: a scripted QMP server answers the commands and the
/// test plays QEMU's side of the migration socket; the saved file is read back and checked by <see cref="QemuSavedState"/>.
/// </summary>
public sealed class QemuSaveRestoreReplayTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _run = Directory.CreateTempSubdirectory("hcs-run-").FullName;
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-saved-").FullName;
    private int _factReports; // calls of the facts callback (TemporaryFile changed)

    public void Dispose()
    {
        Directory.Delete(_run, recursive: true);
        Directory.Delete(_dir, recursive: true);
    }

    private static VirtualMachine Vm(ulong memoryMb = 256, int luns = 0) => new()
    {
        ComputeTopology = new Topology { Memory = new VirtualMachineMemory { SizeInMB = memoryMb } },
        Devices = new Devices
        {
            Scsi = new Dictionary<string, Scsi>
            {
                ["primary"] = new()
                {
                    Attachments = Enumerable.Range(0, luns).ToDictionary(
                        l => l.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => new Attachment { Type = AttachmentType.Iso, Path = "/tmp/x.iso" }),
                },
            },
        },
    };

    /// <summary>A migration stream: QEMU's magic and version, then some state.</summary>
    private static byte[] Stream(int length)
    {
        var stream = new byte[length];
        QemuSavedState.StreamMagic.CopyTo(stream);
        for (var i = QemuSavedState.StreamMagic.Length; i < length; i++)
        {
            stream[i] = (byte)(i * 7);
        }

        return stream;
    }

    private QemuSaveRestore SaveRestore(QmpClient qmp, SavedStateFile? restore = null, int? exitCode = null) =>
        new(qmp, "vm1", _run, TimeProvider.System, [], restore, _ => Task.CompletedTask, () => exitCode, () => Interlocked.Increment(ref _factReports));

    private static async Task<(ScriptedQmpServer Server, Task Serving, QmpClient Qmp)> ConnectAsync(QmpScript script, Func<JsonObject, Task>? onReceived = null)
    {
        var server = script.End().Server(onReceived);
        var serving = server.RunAsync(Ct);
        return (server, serving, await QmpClient.ConnectAsync(server.ClientStream, Ct));
    }

    private static Task Hook(JsonObject command, string name, Func<Task> action) =>
        command["execute"]!.GetValue<string>() == name ? action() : Task.CompletedTask;

    private static JsonObject Status(string status) => new() { ["status"] = status, ["singlestep"] = false, ["running"] = false };

    [Fact]
    public async Task Save_StreamsTheMigrationBehindTheHeader_AndRenamesItIntoPlace_WhichARestoreAccepts()
    {
        var vm = Vm(luns: 2);
        var target = Path.Combine(_dir, "vm.state");
        var state = Stream(300_000);
        var socket = Path.Combine(_run, QemuSaveRestore.SaveSocket);
        Task? qemu = null;
        QemuSaveRestore? save = null;
        string? temporary = null;
        var script = new QmpScript()
            .Command("query-status", reply: Status("paused"))
            .Command("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 32L << 30 })
            .Command("migrate", new JsonObject { ["uri"] = $"unix:{socket}" })
            .Command("query-migrate", reply: new JsonObject { ["status"] = "completed", ["total-time"] = 180 });
        var (server, serving, qmp) = await ConnectAsync(script, c =>
        {
            switch (c["execute"]!.GetValue<string>())
            {
                case "migrate":
                    temporary = save!.TemporaryFile;
                    qemu = SendAsync(socket, state); // QEMU connects to the URI and sends the stream
                    break;
                case "query-migrate":
                    return qemu!; // "completed" once the stream is in
            }

            return Task.CompletedTask;
        });
        await using var _ = qmp;
        save = SaveRestore(qmp);

        await save.SaveAsync(new SaveOptions { SaveStateFilePath = target }, 256, 200, QemuCommandLine.Layout(vm, QemuCommandLine.ScsiSlots(vm)), Ct);
        await serving;

        // The partial file was a hidden .tmp next to the target, a fact while the save ran; nothing is left of it.
        Assert.NotNull(temporary);
        Assert.Equal(_dir, Path.GetDirectoryName(temporary));
        Assert.StartsWith(".vm.state.", Path.GetFileName(temporary), StringComparison.Ordinal);
        Assert.EndsWith(QemuSaveRestore.SaveTemporarySuffix, temporary, StringComparison.Ordinal);
        Assert.Equal(2, _factReports);
        Assert.Null(save.TemporaryFile);
        Assert.Equal(["vm.state"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        Assert.False(File.Exists(socket));
        Assert.Equal(5, server.Received.Count); // qmp_capabilities and the four commands of a save

        using (var saved = await QemuSavedState.OpenAsync(target, vm, "vm1"))
        {
            Assert.Equal(((ulong)state.Length, 200ul), (saved.StreamLength, saved.BalloonTargetMb));
            var read = new byte[state.Length];
            await saved.Stream.ReadExactlyAsync(read, Ct);
            Assert.Equal(state, read);
            Assert.Equal(-1, saved.Stream.ReadByte());
        }

        // The header holds the memory size and the device layout: another VM's document is refused by name.
        var bigger = await Assert.ThrowsAsync<HcsException>(() => QemuSavedState.OpenAsync(target, Vm(memoryMb: 512, luns: 2), "vm2"));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, bigger.HResult);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Memory.SizeInMB", bigger.Result.ErrorMessage, StringComparison.Ordinal);
        var fewer = await Assert.ThrowsAsync<HcsException>(() => QemuSavedState.OpenAsync(target, Vm(luns: 1), "vm2"));
        Assert.Contains("$.VirtualMachine.Devices.Scsi", fewer.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_OfAStateJustSaved_IsInvalidState_AndAFailedMigration_LeavesNothingBehind()
    {
        var vm = Vm();
        var target = Path.Combine(_dir, "vm.state");
        var socket = Path.Combine(_run, QemuSaveRestore.SaveSocket);
        var script = new QmpScript()
            .Command("query-status", reply: Status("postmigrate"))
            .Command("query-status", reply: Status("paused"))
            .Command("migrate-set-parameters", new JsonObject { ["max-bandwidth"] = 32L << 30 })
            .Command("migrate", new JsonObject { ["uri"] = $"unix:{socket}" })
            .Command("query-migrate", reply: new JsonObject { ["status"] = "failed", ["error-desc"] = "No space left on device" });
        var (_, serving, qmp) = await ConnectAsync(script);
        await using var _ = qmp;
        var save = SaveRestore(qmp);
        var layout = QemuCommandLine.Layout(vm, []);

        var again = await Assert.ThrowsAsync<HcsException>(() => save.SaveAsync(new SaveOptions { SaveStateFilePath = target }, 256, 256, layout, Ct));
        Assert.Equal(HResults.HCS_E_INVALID_STATE, again.HResult);
        Assert.Equal(0, _factReports);

        var failed = await Assert.ThrowsAsync<HcsException>(() => save.SaveAsync(new SaveOptions { SaveStateFilePath = target }, 256, 256, layout, Ct));
        Assert.Equal(HResults.E_FAIL, failed.HResult);
        Assert.Contains("QEMU's migration ended 'failed': No space left on device", failed.Result.ErrorMessage, StringComparison.Ordinal);
        await serving;
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
        Assert.False(File.Exists(socket));
        Assert.Equal(2, _factReports);
        Assert.Null(save.TemporaryFile);
    }

    [Theory]
    [InlineData(SaveType.AsTemplate, "/tmp/vm.state", "$.SaveType")]
    [InlineData(SaveType.ToFile, "", "$.SaveStateFilePath")]
    [InlineData(SaveType.ToFile, "relative/vm.state", "$.SaveStateFilePath")]
    [InlineData(null, "/tmp/dir/", "$.SaveStateFilePath")]
    public void SaveTarget_RefusesWhatItCannotWrite_ByName(SaveType? type, string path, string member)
    {
        var e = Assert.Throws<HcsException>(() => QemuSaveRestore.SaveTarget(new SaveOptions { SaveType = type, SaveStateFilePath = path }));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains(member, e.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restore_StreamsTheFileIntoQemusSocket_ThenContinues_Once()
    {
        var vm = Vm();
        var state = Stream(200_000);
        var restore = await SavedFileAsync(vm, state);
        var socket = Path.Combine(_run, QemuSaveRestore.RestoreSocket);
        Task<byte[]>? qemu = null;
        var script = new QmpScript()
            .Command("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socket}" })
            .Command("query-migrate", reply: new JsonObject { ["status"] = "completed" })
            .Command("cont");
        var (_, serving, qmp) = await ConnectAsync(script, c =>
        {
            switch (c["execute"]!.GetValue<string>())
            {
                case "migrate-incoming":
                    qemu = ReceiveAsync(socket); // QEMU listens on the URI before migrate-incoming returns
                    break;
                case "query-migrate":
                    return qemu!; // "completed" once the stream is in
            }

            return Task.CompletedTask;
        });
        await using var _ = qmp;
        var saveRestore = SaveRestore(qmp, restore);

        Assert.True(await saveRestore.RestoreAsync(Ct));
        Assert.Equal(state, await qemu!);
        Assert.True(saveRestore.Restoring!.IsCompletedSuccessfully);
        Assert.False(await saveRestore.RestoreAsync(Ct)); // consumed: a later Start continues the VM itself
        await serving;
        Assert.Throws<ObjectDisposedException>(() => restore.Stream.Position);
    }

    [Fact]
    public async Task Restore_QemuCannotLoad_FailsWithQemusReason_AndAFailedMigrationWithItsOwn()
    {
        var vm = Vm();
        await File.WriteAllTextAsync(Path.Combine(_run, QemuCommandLine.QemuLog), "qemu-system-x86_64: load of migration failed: Invalid argument\n", Ct);
        var socket = Path.Combine(_run, QemuSaveRestore.RestoreSocket);

        // QEMU 7.2 exits with status 1 when the stream does not load: QMP ends, the reason is in qemu.log.
        Task<byte[]>? qemu = null;
        var (_, serving, qmp) = await ConnectAsync(new QmpScript().Command("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socket}" }),
            c => Hook(c, "migrate-incoming", () =>
            {
                qemu = ReceiveAsync(socket);
                return Task.CompletedTask;
            }));
        await using (qmp)
        {
            var exited = SaveRestore(qmp, await SavedFileAsync(vm, Stream(1000)), exitCode: 1);
            var e = await Assert.ThrowsAsync<HcsException>(() => exited.RestoreAsync(Ct));
            Assert.Equal(HResults.ERROR_INVALID_DATA, e.HResult);
            Assert.Contains("QEMU could not load the saved state", e.Result.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains("load of migration failed: Invalid argument", e.Result.ErrorMessage, StringComparison.Ordinal);
            await qemu!;
            await serving;
        }

        File.Delete(socket);
        var script = new QmpScript()
            .Command("migrate-incoming", new JsonObject { ["uri"] = $"unix:{socket}" })
            .Command("query-migrate", reply: new JsonObject { ["status"] = "failed", ["error-desc"] = "version mismatch" });
        (_, serving, qmp) = await ConnectAsync(script, c => Hook(c, "migrate-incoming", () =>
        {
            qemu = ReceiveAsync(socket);
            return Task.CompletedTask;
        }));
        await using (qmp)
        {
            var failed = SaveRestore(qmp, await SavedFileAsync(vm, Stream(1000)));
            var e = await Assert.ThrowsAsync<HcsException>(() => failed.RestoreAsync(Ct));
            Assert.Equal(HResults.E_FAIL, e.HResult);
            Assert.Contains("QEMU's migration ended 'failed': version mismatch", e.Result.ErrorMessage, StringComparison.Ordinal);
            await serving; // no cont
        }
    }

    private async Task<SavedStateFile> SavedFileAsync(VirtualMachine vm, byte[] state)
    {
        var path = Path.Combine(_dir, $"{Guid.NewGuid():N}.state");
        var header = QemuSavedState.Header((ulong)state.Length, QemuCommandLine.MemoryMb(vm), 128, QemuCommandLine.Layout(vm, QemuCommandLine.ScsiSlots(vm)));
        await File.WriteAllBytesAsync(path, [.. header, .. state], Ct);
        return await QemuSavedState.OpenAsync(path, vm, "vm1");
    }

    /// <summary>QEMU's side of a save: connects to the socket, sends the stream, and waits until the reader hangs up.</summary>
    private static async Task SendAsync(string path, byte[] state)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), Ct);
        await socket.SendAsync(state, Ct);
        socket.Shutdown(SocketShutdown.Send);
        while (await socket.ReceiveAsync(new byte[16], Ct) > 0)
        {
        }
    }

    /// <summary>QEMU's side of a restore: listens on the socket and reads the stream until the sender shuts down.</summary>
    private static async Task<byte[]> ReceiveAsync(string path)
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var connection = await listener.AcceptAsync(Ct);
        using var received = new MemoryStream();
        await using var stream = new NetworkStream(connection);
        await stream.CopyToAsync(received, Ct);
        return received.ToArray();
    }
}
