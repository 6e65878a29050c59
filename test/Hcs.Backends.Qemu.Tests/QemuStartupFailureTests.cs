// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// A QEMU that exits during start-up after its QMP socket listens (it refuses the machine once its options are
/// parsed): Create fails with <c>HCS_E_TERMINATED_DURING_START</c> and QEMU's own message, never "Connection reset by
/// peer", and leaves no runtime directory behind. These fail within a second (no guest boots).
/// </summary>
public sealed class QemuStartupFailureTests : IAsyncLifetime
{
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-startup-");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([new QemuBackend(new QemuSettings(), _run.FullName)], new EngineOptions());
        _client = HcsClient.Connect(_engine, "qemu-startup-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
        _run.Delete(recursive: true);
    }

    public static TheoryData<string, string> Cases() => new()
    {
        // case, a word of QEMU's own message
        { "nonexistent SCSI image", "No such file or directory" },
        { "socket in a missing directory", "No such file or directory" },
        { "2^63 MB of memory", "memory" },
        { "100,000 vCPUs", "CPUs" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task QemuExitingAfterQmpListens_IsTerminatedDuringStart_WithQemusMessage(string @case, string keyword)
    {
        var document = @case switch
        {
            "nonexistent SCSI image" => TestGuest.Document("idle", new Devices
            {
                Scsi = new Dictionary<string, Scsi>
                {
                    ["0"] = new() { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.VirtualDisk, Path = Path.Combine(_run.FullName, "missing.img") } } },
                },
            }),
            "socket in a missing directory" => TestGuest.Document("idle", new Devices
            {
                ComPorts = new Dictionary<string, ComPort> { ["1"] = new() { NamedPipe = Path.Combine(_run.FullName, "missing", "com2.sock") } },
            }),
            "2^63 MB of memory" => WithMemory(TestGuest.Document("idle"), 1UL << 63),
            _ => TestGuest.Document("idle", processor: new VirtualMachineProcessor { Count = 100_000 }),
        };
        var id = "startup-" + Cases().ToList().FindIndex(row => (string)row.Data.Item1 == @case);

        var ex = await Assert.ThrowsAsync<HcsException>(() => Client.ComputeSystem.CreateAsync(_client, id, document, Ct));

        Assert.True(ex.HResult == HResults.HCS_E_TERMINATED_DURING_START, $"{@case}: {ex.HResultName} {ex.Message}");
        Assert.Contains("qemu-system-x86_64:", ex.Message, StringComparison.Ordinal);
        Assert.Contains(keyword, ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(Directory.Exists(Path.Combine(_run.FullName, id)), "the runtime directory was left behind");
    }

    private static SchemaComputeSystem WithMemory(SchemaComputeSystem document, ulong megabytes) => document with
    {
        VirtualMachine = document.VirtualMachine! with
        {
            ComputeTopology = document.VirtualMachine.ComputeTopology! with { Memory = new VirtualMachineMemory { SizeInMB = megabytes } },
        },
    };
}
