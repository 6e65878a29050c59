// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// One running QEMU. QMP events become backend events: SHUTDOWN from the guest → power-off, RESET from the guest →
/// reset, GUEST_PANICKED → crash initiated, crash report (the console log) and stop; VNC_CONNECTED, VNC_INITIALIZED
/// and VNC_DISCONNECTED → remote console state changes; VSERPORT_CHANGE with <c>open: false</c> on a
/// <c>Devices.VirtioSerial</c> port → guest connection closed; the process ending without a SHUTDOWN (kill -9) → the
/// worker died with its exit status. The engine is told of a stop once.
/// </summary>
internal sealed class QemuSystem : IBackendSystem
{
    private readonly BackendSystemContext _context;
    private readonly Process _process;
    private readonly QmpClient _qmp;
    private readonly string _runtimeDirectory;
    private readonly Task _events;
    private readonly Task _exit;
    private readonly string? _consoleEndpoint;
    private readonly Dictionary<string, (string Key, VirtioSerialPort Port)> _ports = new(StringComparer.Ordinal);
    private static readonly TimeSpan s_statsLifetime = TimeSpan.FromMilliseconds(10);
    private readonly Lock _statsGate = new();
    private (ulong Cpu, ulong Rss) _stats; // guarded by _statsGate
    private long? _statsAt; // guarded by _statsGate: when _stats was read (TimeProvider timestamp)
    private uint _consoleClients; // only the event pump touches it
    private int _terminating;

    public QemuSystem(BackendSystemContext context, Process process, QmpClient qmp, string runtimeDirectory)
    {
        _context = context;
        _process = process;
        _qmp = qmp;
        _runtimeDirectory = runtimeDirectory;
        var vm = context.Document.VirtualMachine!;
        _consoleEndpoint = QemuCommandLine.ConsoleEndpoint(vm, runtimeDirectory);
        foreach (var (key, port) in vm.Devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
        {
            _ports[QemuCommandLine.VirtioSerialPortId(key)] = (key, port);
        }

        _events = Task.Run(PumpEventsAsync);
        _exit = Task.Run(WatchExitAsync);
    }

    public Task StartAsync(CancellationToken cancellationToken) => _qmp.ExecuteAsync("cont", cancellationToken: cancellationToken);

    public Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken) =>
        _qmp.ExecuteAsync("system_powerdown", cancellationToken: cancellationToken);

    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _terminating, 1);
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken) => _qmp.ExecuteAsync("stop", cancellationToken: cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => _qmp.ExecuteAsync("cont", cancellationToken: cancellationToken);

    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken) =>
        throw HcsException.InvalidJson("$", "saving a QEMU VM is not supported yet");

    public Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken) =>
        _qmp.ExecuteAsync("inject-nmi", cancellationToken: cancellationToken);

    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken) =>
        throw HcsException.InvalidJson("$.ResourcePath", $"resource path '{request?.ResourcePath}' is not supported by the QEMU backend yet");

    public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        var (cpu, rss) = Sample();
        return Task.FromResult(new BackendProperties
        {
            RuntimeOsType = OsType.Linux,
            Processor = new ProcessorStats { TotalRuntime100ns = cpu },
            MemoryStats = new MemoryStats { MemoryUsagePrivateWorkingSetBytes = rss, MemoryUsageCommitBytes = rss },
        });
    }

    /// <summary>
    /// CPU time (100 ns units) and resident memory of the QEMU process, from one small synchronous procfs read (no QMP
    /// round trip, no thread-pool hop). procfs counts CPU time in 10 ms ticks (USER_HZ = 100), so a sample younger than
    /// that is reused: a burst of queries reads procfs at most 100 times a second.
    /// </summary>
    private (ulong Cpu, ulong Rss) Sample()
    {
        var now = _context.Time.GetTimestamp();
        lock (_statsGate)
        {
            if (_statsAt is { } at && _context.Time.GetElapsedTime(at, now) < s_statsLifetime)
            {
                return _stats;
            }
        }

        (ulong Cpu, ulong Rss) sample = (0, 0);
        try
        {
            using var handle = File.OpenHandle($"/proc/{_process.Id}/stat");
            Span<byte> buffer = stackalloc byte[1024];
            var stat = Encoding.ASCII.GetString(buffer[..RandomAccess.Read(handle, buffer, 0)]);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture);
            sample = (ticks * 100_000, // one tick is 10 ms = 100,000 × 100 ns
                ulong.Parse(fields[21], CultureInfo.InvariantCulture) * (ulong)Environment.SystemPageSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The process is gone: report zeros.
        }

        lock (_statsGate)
        {
            (_stats, _statsAt) = (sample, now);
        }

        return sample;
    }

    private async Task PumpEventsAsync()
    {
        await foreach (var e in _qmp.Events.ReadAllAsync().ConfigureAwait(false))
        {
            var guest = e.Data is { } data && data.TryGetProperty("guest", out var g) && g.GetBoolean();
            switch (e.Name)
            {
                case "SHUTDOWN" when guest:
                    _context.Events.Stopped(new BackendExit(BackendExitCause.GuestPowerOff));
                    break;
                case "RESET" when guest:
                    _context.Events.GuestReset();
                    break;
                case "GUEST_PANICKED":
                    var report = new CrashReport { SystemId = _context.Id };
                    _context.Events.CrashInitiated(report);
                    var log = await ConsoleTailAsync().ConfigureAwait(false);
                    _context.Events.CrashReported(report with { CrashLog = log });
                    _context.Events.Stopped(new BackendExit(BackendExitCause.GuestCrash, Detail: log));
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
                    _context.Events.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
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
    }

    private void RemoteConsole(RemoteConsoleState state, DateTimeOffset? timestamp) =>
        _context.Events.RemoteConsoleStateChanged(HcsJson.Serialize(new RemoteConsoleStateChange
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
        var path = Path.Combine(_runtimeDirectory, QemuCommandLine.ConsoleLog);
        await Task.Delay(TimeSpan.FromMilliseconds(200), _context.Time).ConfigureAwait(false);
        try
        {
            var text = await File.ReadAllTextAsync(path).ConfigureAwait(false);
            return text.Length > 65536 ? text[^65536..] : text;
        }
        catch (IOException)
        {
            return "";
        }
    }

    private async Task WatchExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Volatile.Read(ref _terminating) == 0)
        {
            // Ignored if a guest power-off or crash was already reported.
            _context.Events.Stopped(new BackendExit(BackendExitCause.WorkerDied, unchecked((uint)_process.ExitCode),
                string.Create(CultureInfo.InvariantCulture, $"qemu exited with status {_process.ExitCode}")));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await TerminateAsync(CancellationToken.None).ConfigureAwait(false);
        await _qmp.DisposeAsync().ConfigureAwait(false);
        await _exit.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
        try
        {
            Directory.Delete(_runtimeDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort; an orphaned directory is reported and cleaned by the daemon later.
        }
    }
}
