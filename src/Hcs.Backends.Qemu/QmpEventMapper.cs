// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Maps one VM's QMP events, in QEMU's order, to backend events, and keeps the state they drive:
/// <list type="bullet">
/// <item>SHUTDOWN from the guest → guest connection closed (if open), then stopped (GuestPowerOff); SHUTDOWN from the
/// host (a signal, <c>quit</c>) → only its reason is kept (<see cref="HostShutdownReason"/>): the exit watcher reports
/// the stop;</item>
/// <item>RESET from the guest → guest reset;</item>
/// <item>GUEST_PANICKED → crash initiated, crash reported with the console log's tail (after 200 ms for the guest to
/// finish printing), guest connection closed (if open), stopped (GuestCrash);</item>
/// <item>SHUTDOWN, RESET or GUEST_PANICKED also mean the guest answered a repeated request (the callback
/// <c>answered</c>);</item>
/// <item>VSERPORT_CHANGE on the <c>GuestConnection</c> port → the guest connection opened (<see cref="GuestConnected"/>)
/// or closed; on a <c>Devices.VirtioSerial</c> port with <c>open: false</c> → guest connection closed naming the port;</item>
/// <item>DEVICE_DELETED → the callback <c>deviceDeleted</c> (a SCSI hot-unplug waiting for it);</item>
/// <item>VNC_CONNECTED, VNC_INITIALIZED, VNC_DISCONNECTED → remote console state changes with the client count.</item>
/// </list>
/// The pump only maps and enqueues (the crash path's console wait suspends the pump, not the QMP reader).
/// SystemGuestConnectionClosed for the <c>GuestConnection</c> port is reported once per connection
/// (<see cref="CloseGuestConnection"/>).
/// </summary>
internal sealed class QmpEventMapper
{
    private readonly string _systemId;
    private readonly string _runtimeDirectory;
    private readonly IBackendEventSink _sink;
    private readonly TimeProvider _time;
    private readonly Action _answered;
    private readonly Action<string> _deviceDeleted;
    private readonly Action _guestConnectionChanged;
    private readonly string? _consoleEndpoint;
    private readonly Dictionary<string, (string Key, VirtioSerialPort Port)> _ports = new(StringComparer.Ordinal);
    private TaskCompletionSource _guestConnected = NewSignal();
    private uint _consoleClients; // only the pump touches it
    private string? _hostShutdownReason; // the reason of a SHUTDOWN QEMU reported without the guest asking (a signal, quit)

    /// <summary>
    /// The mapping for VM <paramref name="vm"/> of system <paramref name="systemId"/>, reporting to
    /// <paramref name="sink"/>. <paramref name="guestConnected"/>: the guest connection is open already (an adopted VM).
    /// <paramref name="answered"/>, <paramref name="deviceDeleted"/> (with the device id) and
    /// <paramref name="guestConnectionChanged"/> (after the guest opened or closed the <c>GuestConnection</c> port) are
    /// called from the pump.
    /// </summary>
    public QmpEventMapper(string systemId, VirtualMachine vm, string runtimeDirectory, IBackendEventSink sink, TimeProvider time,
        bool guestConnected, Action answered, Action<string> deviceDeleted, Action guestConnectionChanged)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _systemId = systemId;
        _runtimeDirectory = runtimeDirectory;
        _sink = sink;
        _time = time;
        _answered = answered;
        _deviceDeleted = deviceDeleted;
        _guestConnectionChanged = guestConnectionChanged;
        _consoleEndpoint = QemuCommandLine.ConsoleEndpoint(vm, runtimeDirectory);
        foreach (var (key, port) in vm.Devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
        {
            _ports[QemuCommandLine.VirtioSerialPortId(key)] = (key, port);
        }

        if (guestConnected)
        {
            _guestConnected.TrySetResult();
        }
    }

    /// <summary>Completes when the guest has opened the <c>GuestConnection</c> port (the current connection).</summary>
    public Task GuestConnected => Volatile.Read(ref _guestConnected).Task;

    /// <summary>The reason of a SHUTDOWN QEMU reported without the guest asking (a signal, <c>quit</c>); null if none.</summary>
    public string? HostShutdownReason => Volatile.Read(ref _hostShutdownReason);

    /// <summary>Maps <paramref name="events"/> until the channel completes (the QMP connection ended).</summary>
    public async Task RunAsync(ChannelReader<QmpEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        await foreach (var e in events.ReadAllAsync().ConfigureAwait(false))
        {
            await MapAsync(e).ConfigureAwait(false);
        }
    }

    private async Task MapAsync(QmpEvent e)
    {
        var guest = e.Data is { } data && data.TryGetProperty("guest", out var g) && g.GetBoolean();
        if (e.Name is "SHUTDOWN" or "RESET" or "GUEST_PANICKED")
        {
            _answered();
        }

        switch (e.Name)
        {
            case "SHUTDOWN" when guest:
                CloseGuestConnection("the guest powered off");
                _sink.Stopped(new BackendExit(BackendExitCause.GuestPowerOff));
                break;
            case "SHUTDOWN":
                Volatile.Write(ref _hostShutdownReason, e.Data is { } sd && sd.TryGetProperty("reason", out var r) ? r.GetString() : "host");
                break;
            case "RESET" when guest:
                _sink.GuestReset();
                break;
            case "VSERPORT_CHANGE" when PortOf(e) is (QemuCommandLine.GuestConnectionPortId, var open):
                if (open)
                {
                    Volatile.Read(ref _guestConnected).TrySetResult();
                }
                else
                {
                    CloseGuestConnection("the guest closed the guest connection");
                }

                _guestConnectionChanged();

                break;
            case "GUEST_PANICKED":
                var report = new CrashReport { SystemId = _systemId };
                _sink.CrashInitiated(report);
                var log = await ConsoleTailAsync().ConfigureAwait(false);
                _sink.CrashReported(report with { CrashLog = log });
                CloseGuestConnection("the guest crashed");
                _sink.Stopped(new BackendExit(BackendExitCause.GuestCrash, Detail: log));
                break;
            case "DEVICE_DELETED" when e.Data is { } d && d.TryGetProperty("device", out var device) && device.GetString() is { } id:
                _deviceDeleted(id);
                break;
            case "VNC_CONNECTED":
                _consoleClients++;
                RemoteConsole(RemoteConsoleState.Connected, e.Timestamp);
                break;
            case "VNC_INITIALIZED":
                RemoteConsole(RemoteConsoleState.Initialized, e.Timestamp);
                break;
            case "VNC_DISCONNECTED":
                _consoleClients = _consoleClients > 0 ? _consoleClients - 1 : 0;
                RemoteConsole(RemoteConsoleState.Disconnected, e.Timestamp);
                break;
            case "VSERPORT_CHANGE" when e.Data is { } change && change.TryGetProperty("open", out var open) && !open.GetBoolean()
                                        && change.TryGetProperty("id", out var id) && _ports.TryGetValue(id.GetString() ?? "", out var port):
                _sink.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
                {
                    Reason = "the guest closed the virtio-serial port",
                    Port = port.Key,
                    Name = port.Port.Name,
                    NamedPipe = port.Port.NamedPipe,
                    Timestamp = e.Timestamp,
                }));
                break;
        }
    }

    /// <summary>
    /// Reports SystemGuestConnectionClosed once per connection: when the guest closes the port, or when the VM goes away
    /// with the connection open (before the stop is reported, so SystemExited stays the last event).
    /// </summary>
    public void CloseGuestConnection(string reason)
    {
        var connected = Volatile.Read(ref _guestConnected);
        if (connected.Task.IsCompleted && Interlocked.CompareExchange(ref _guestConnected, NewSignal(), connected) == connected)
        {
            _sink.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
            {
                Reason = reason,
                Name = QemuCommandLine.GuestConnectionPortName,
                NamedPipe = Path.Combine(_runtimeDirectory, QemuCommandLine.GuestConnectionSocket),
                Timestamp = _time.GetUtcNow(),
            }));
        }
    }

    /// <summary>The VM was reset before its guest opened the connection (a cancelled Start): wait for the next one, report nothing.</summary>
    public void ResetGuestConnection() => Volatile.Write(ref _guestConnected, NewSignal());

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The (device id, open) of a VSERPORT_CHANGE event.</summary>
    private static (string? Id, bool Open) PortOf(QmpEvent e) =>
        e.Data is { } data && data.TryGetProperty("id", out var id) && data.TryGetProperty("open", out var open)
            ? (id.GetString(), open.GetBoolean())
            : (null, false);

    private void RemoteConsole(RemoteConsoleState state, DateTimeOffset? timestamp) =>
        _sink.RemoteConsoleStateChanged(HcsJson.Serialize(new RemoteConsoleStateChange
        {
            Connected = state != RemoteConsoleState.Disconnected,
            State = state,
            Protocol = QemuCommandLine.ConsoleProtocol,
            Endpoint = _consoleEndpoint,
            Clients = _consoleClients,
            Timestamp = timestamp,
        }));

    /// <summary>The console log's last 64 KiB, after giving the guest a moment to finish printing its panic.</summary>
    private async Task<string> ConsoleTailAsync()
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), _time).ConfigureAwait(false);
        return await ConsoleLog.ReadTailAsync(_runtimeDirectory).ConfigureAwait(false);
    }
}
