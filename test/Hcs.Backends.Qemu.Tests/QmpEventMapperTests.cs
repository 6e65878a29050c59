// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// QMP events → backend events (<see cref="QmpEventMapper"/>), fed by a scripted QMP server. Event shapes are QEMU
/// 7.2's (qapi/run-state.json, char.json, ui.json, qdev.json): SHUTDOWN and RESET carry <c>guest</c> and
/// <c>reason</c>, GUEST_PANICKED <c>action</c>, VSERPORT_CHANGE <c>id</c> and <c>open</c>, DEVICE_DELETED
/// <c>device</c> (absent for a device without an id) and <c>path</c>, the VNC events <c>server</c> and <c>client</c>.
/// </summary>
public sealed class QmpEventMapperTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _run = Directory.CreateTempSubdirectory("hcs-events-").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    private static VirtualMachine Vm => new()
    {
        GuestConnection = new GuestConnection(),
        Devices = new Devices
        {
            VideoMonitor = new VideoMonitor(),
            VirtioSerial = new VirtioSerial
            {
                Ports = new Dictionary<string, VirtioSerialPort> { ["0"] = new() { Name = "org.test.port", NamedPipe = "/tmp/port0.sock" } },
            },
        },
    };

    private static JsonObject Vnc => new()
    {
        ["server"] = new JsonObject { ["auth"] = "none", ["family"] = "unix", ["service"] = "/run/hcs/vm1/vnc.sock", ["host"] = "", ["websocket"] = false },
        ["client"] = new JsonObject { ["family"] = "unix", ["service"] = "", ["host"] = "", ["websocket"] = false },
    };

    private sealed class Hooks
    {
        public int Answered;
        public int GuestConnectionChanges;
        public List<string> Deleted { get; } = [];
    }

    private QmpEventMapper Mapper(Sink sink, TimeProvider time, Hooks hooks, bool guestConnected = false) =>
        new("vm1", Vm, _run, sink, time, guestConnected,
            answered: () => hooks.Answered++,
            deviceDeleted: hooks.Deleted.Add,
            guestConnectionChanged: () => hooks.GuestConnectionChanges++);

    private static async Task RunAsync(QmpScript script, QmpEventMapper mapper)
    {
        var server = script.End().Server();
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        await mapper.RunAsync(qmp.Events).WaitAsync(Ct);
        await serving;
    }

    [Fact]
    public async Task GuestEvents_BecomeBackendEvents_InQemusOrder_AndGuestPowerOffClosesTheGuestConnectionBeforeTheStop()
    {
        var sink = new Sink();
        var hooks = new Hooks();
        var mapper = Mapper(sink, new TimerWatchingTime(), hooks);
        var script = new QmpScript()
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = QemuCommandLine.GuestConnectionPortId, ["open"] = true })
            .Event("VNC_CONNECTED", Vnc)
            .Event("VNC_INITIALIZED", Vnc)
            .Event("VNC_DISCONNECTED", Vnc)
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = "vportdev0", ["open"] = false })
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = "vportdev0", ["open"] = true })
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = "vportdev7", ["open"] = false })
            .Event("RESET", new JsonObject { ["guest"] = true, ["reason"] = "guest-reset" })
            .Event("RESET", new JsonObject { ["guest"] = false, ["reason"] = "host-qmp-system-reset" })
            .Event("DEVICE_DELETED", new JsonObject { ["device"] = "scsi0-1", ["path"] = "/machine/peripheral/scsi0-1" })
            .Event("DEVICE_DELETED", new JsonObject { ["path"] = "/machine/peripheral-anon/device[3]" })
            .Event("STOP")
            .Event("SHUTDOWN", new JsonObject { ["guest"] = true, ["reason"] = "guest-shutdown" });

        Assert.False(mapper.GuestConnected.IsCompleted);
        await RunAsync(script, mapper);

        Assert.Equal(
        [
            "RemoteConsoleStateChanged", "RemoteConsoleStateChanged", "RemoteConsoleStateChanged",
            "GuestConnectionClosed", "GuestReset", "GuestConnectionClosed", "Stopped GuestPowerOff",
        ], sink.Names);
        var console = sink.Data.Where(d => d.Name == "RemoteConsoleStateChanged").Select(d => HcsJson.Deserialize<RemoteConsoleStateChange>(d.Data!)).ToList();
        Assert.Equal([RemoteConsoleState.Connected, RemoteConsoleState.Initialized, RemoteConsoleState.Disconnected], console.Select(c => c.State!.Value));
        Assert.Equal([true, true, false], console.Select(c => c.Connected));
        Assert.Equal([1u, 1u, 0u], console.Select(c => c.Clients!.Value));
        Assert.All(console, c => Assert.Equal((Path.Combine(_run, QemuCommandLine.VncSocket), "vnc", QmpScript.EventTime), (c.Endpoint, c.Protocol, c.Timestamp)));

        var port = HcsJson.Deserialize<GuestConnectionClosedInfo>(sink.Data[3].Data!);
        Assert.Equal(("0", "org.test.port", "/tmp/port0.sock", QmpScript.EventTime), (port.Port, port.Name, port.NamedPipe, port.Timestamp));
        var gcs = HcsJson.Deserialize<GuestConnectionClosedInfo>(sink.Data[5].Data!);
        Assert.Equal(("the guest powered off", null, QemuCommandLine.GuestConnectionPortName, Path.Combine(_run, QemuCommandLine.GuestConnectionSocket)),
            (gcs.Reason, gcs.Port, gcs.Name, gcs.NamedPipe));

        Assert.Equal(["scsi0-1"], hooks.Deleted);
        Assert.Equal(3, hooks.Answered); // two RESETs and the SHUTDOWN answer a repeated power button or NMI
        Assert.Equal(1, hooks.GuestConnectionChanges);
        Assert.Null(mapper.HostShutdownReason);
    }

    [Fact]
    public async Task HostShutdown_ReportsNothing_AndKeepsItsReasonForTheExitWatcher()
    {
        var sink = new Sink();
        var hooks = new Hooks();
        var mapper = Mapper(sink, new TimerWatchingTime(), hooks, guestConnected: true);
        await RunAsync(new QmpScript().Event("SHUTDOWN", new JsonObject { ["guest"] = false, ["reason"] = "host-signal" }), mapper);

        Assert.Empty(sink.Names);
        Assert.Equal("host-signal", mapper.HostShutdownReason);
        Assert.Equal(1, hooks.Answered);
        Assert.True(mapper.GuestConnected.IsCompleted); // still open: the exit watcher closes it before the stop

        mapper.CloseGuestConnection("the VM ended");
        mapper.CloseGuestConnection("the VM ended");
        Assert.Equal(["GuestConnectionClosed"], sink.Names); // once per connection
        Assert.False(mapper.GuestConnected.IsCompleted);
    }

    [Fact]
    public async Task GuestPanic_IsCrashInitiated_ThenTheReportWithTheConsoleTail_ThenTheGuestConnectionClosed_ThenTheStop()
    {
        await File.WriteAllTextAsync(Path.Combine(_run, QemuCommandLine.ConsoleLog), "booting\nKernel panic - not syncing: hcstest\n", Ct);
        var sink = new Sink();
        var hooks = new Hooks();
        var time = new TimerWatchingTime();
        var mapper = Mapper(sink, time, hooks, guestConnected: true);
        var server = new QmpScript().Event("GUEST_PANICKED", new JsonObject { ["action"] = "pause" }).End().Server();
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var mapping = mapper.RunAsync(qmp.Events);

        await time.WaitForTimerAsync(Ct); // the console wait: the guest may still be printing its panic
        Assert.Equal(["CrashInitiated"], sink.Names);
        time.Advance(TimeSpan.FromMilliseconds(200));
        await mapping.WaitAsync(Ct);
        await serving;

        Assert.Equal(["CrashInitiated", "CrashReported", "GuestConnectionClosed", "Stopped GuestCrash"], sink.Names);
        Assert.Equal(TimeSpan.FromMilliseconds(200), Assert.Single(time.DueTimes));
        Assert.Contains("Kernel panic - not syncing: hcstest", sink.Crash!.CrashLog, StringComparison.Ordinal);
        Assert.Equal("vm1", sink.Crash.SystemId);
        Assert.Equal(BackendExitCause.GuestCrash, sink.Exit!.Cause);
        Assert.Equal(sink.Crash.CrashLog, sink.Exit.Detail);
        Assert.Equal("the guest crashed", HcsJson.Deserialize<GuestConnectionClosedInfo>(sink.Data[2].Data!).Reason);
        Assert.Equal(1, hooks.Answered);
    }

    [Fact]
    public async Task TheGuestClosingTheGuestConnection_IsReportedOnce_AndAResetVmWaitsForTheNextOpen()
    {
        var sink = new Sink();
        var hooks = new Hooks();
        var mapper = Mapper(sink, new TimerWatchingTime(), hooks, guestConnected: true);
        await RunAsync(new QmpScript()
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = QemuCommandLine.GuestConnectionPortId, ["open"] = false })
            .Event("VSERPORT_CHANGE", new JsonObject { ["id"] = QemuCommandLine.GuestConnectionPortId, ["open"] = false }), mapper);

        Assert.Equal(["GuestConnectionClosed"], sink.Names);
        Assert.Equal("the guest closed the guest connection", HcsJson.Deserialize<GuestConnectionClosedInfo>(sink.Data[0].Data!).Reason);
        Assert.Equal(2, hooks.GuestConnectionChanges);
        Assert.False(mapper.GuestConnected.IsCompleted);

        var reset = Mapper(sink, new TimerWatchingTime(), hooks, guestConnected: true);
        reset.ResetGuestConnection();
        Assert.False(reset.GuestConnected.IsCompleted);
        reset.CloseGuestConnection("the VM ended");
        Assert.Single(sink.Names); // a reset connection is not open: nothing to close
    }

    /// <summary>Records each event's name and EventData.</summary>
    private sealed class Sink : IBackendEventSink
    {
        private readonly Lock _gate = new();
        private readonly List<(string Name, string? Data)> _data = [];

        public IReadOnlyList<(string Name, string? Data)> Data
        {
            get
            {
                lock (_gate)
                {
                    return [.. _data];
                }
            }
        }

        public IReadOnlyList<string> Names => [.. Data.Select(d => d.Name)];

        public CrashReport? Crash { get; private set; }

        public BackendExit? Exit { get; private set; }

        private void Add(string name, string? data = null)
        {
            lock (_gate)
            {
                _data.Add((name, data));
            }
        }

        public void CrashInitiated(CrashReport report) => Add("CrashInitiated");

        public void CrashReported(CrashReport report)
        {
            Crash = report;
            Add("CrashReported");
        }

        public void GuestReset() => Add("GuestReset");

        public void GuestConnectionClosed(string? eventData = null) => Add("GuestConnectionClosed", eventData);

        public void RemoteConsoleStateChanged(string eventData) => Add("RemoteConsoleStateChanged", eventData);

        public void SiloJobCreated(string eventData) => Add("SiloJobCreated", eventData);

        public void StateChanged(SystemState state) => Add($"StateChanged {state}");

        public void RuntimeFactsChanged(string json) => Add("RuntimeFactsChanged", json);

        public void Stopped(BackendExit exit)
        {
            Exit = exit;
            Add($"Stopped {exit.Cause}");
        }
    }
}
