// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// <c>VirtualMachine.GuestConnection</c> on QEMU: a virtio-serial port the guest opens (as its agent would); Start waits
/// for it, and its closing is reported before the exit.
/// </summary>
public sealed class QemuGuestConnectionTests : IAsyncLifetime
{
    private readonly QemuBackendFixture _fixture = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public void GuestConnection_IsAVirtioSerialPortInTheRuntimeDirectory_AndVsockIsRefusedByName()
    {
        var vm = HcsJson.Deserialize<SchemaComputeSystem>(_fixture.HangsOnStartDocument("x")!).VirtualMachine!;
        var args = QemuCommandLine.Build("vm1", vm, new QemuSettings(), "/run/hcs/vm1");
        Assert.Contains("virtio-serial-pci,id=vser0", args);
        Assert.Contains("socket,id=gcs,path=gcs.sock,server=on,wait=off", args);
        Assert.Contains("virtserialport,bus=vser0.0,chardev=gcs,id=gcsport,name=org.hcs.gcs", args);

        var e = Assert.Throws<HcsException>(() => QemuCommandLine.Build("vm1", vm with { GuestConnection = new GuestConnection { UseVsock = true } },
            new QemuSettings(), "/run/hcs/vm1"));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.VirtualMachine.GuestConnection.UseVsock:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithGuestConnection_CompletesOnlyOnceTheGuestHasBootedAndOpenedIt_AndTheClosingPrecedesTheExit()
    {
        var document = HcsJson.Deserialize<SchemaComputeSystem>(_fixture.VmDocument("poweroff:1500"));
        document = document with { VirtualMachine = document.VirtualMachine! with { GuestConnection = new GuestConnection() } };
        var client = _fixture.Connect();
        await using var vm = await Client.ComputeSystem.CreateAsync(client, "gcs", document, Ct);
        var events = new List<HcsEvent>();
        var reading = Subscribe.Now(async () =>
        {
            await foreach (var e in vm.EventsAsync(Ct))
            {
                events.Add(e);
                if (e.Type == HcsEventType.SystemExited)
                {
                    return;
                }
            }
        });

        await vm.StartAsync(Ct).WaitAsync(_fixture.Timeout, Ct);

        // The guest prints this before it opens the port; without the wait Start would complete right after `cont`.
        var console = await File.ReadAllTextAsync(Path.Combine(_fixture.RuntimeDirectory("gcs"), QemuCommandLine.ConsoleLog), Ct);
        Assert.Contains("hcs-guest: init reached", console, StringComparison.Ordinal);
        await reading.WaitAsync(_fixture.Timeout, Ct);
        Assert.Equal([HcsEventType.SystemGuestConnectionClosed, HcsEventType.SystemExited], events.Select(e => e.Type));
        Assert.Equal("org.hcs.gcs", HcsJson.Deserialize<GuestConnectionClosedInfo>(events[0].EventData!).Name);
        Assert.Equal(NotificationType.GracefulExit, HcsJson.Deserialize<SystemExitStatus>(events[1].EventData!).ExitType);
    }
}
