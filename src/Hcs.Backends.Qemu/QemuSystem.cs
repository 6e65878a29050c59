// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// One running QEMU. QMP events become backend events: SHUTDOWN from the guest → power-off, RESET from the guest →
/// reset, GUEST_PANICKED → crash initiated, crash report (the console log) and stop; the process ending without a
/// SHUTDOWN (kill -9) → the worker died with its exit status. The engine is told of a stop once.
/// </summary>
internal sealed class QemuSystem : IBackendSystem
{
    private readonly BackendSystemContext _context;
    private readonly Process _process;
    private readonly QmpClient _qmp;
    private readonly string _runtimeDirectory;
    private readonly Task _events;
    private readonly Task _exit;
    private readonly CancellationTokenSource _ended = new(); // cancelled once QEMU has exited: ends retry loops
    private readonly bool _waitsForGuestConnection;
    private TaskCompletionSource _guestConnected = NewSignal();
    private CancellationTokenSource? _repeat; // the current repetition of a power-button press or NMI
    private int _terminating;

    public QemuSystem(BackendSystemContext context, Process process, QmpClient qmp, string runtimeDirectory)
    {
        _context = context;
        _process = process;
        _qmp = qmp;
        _runtimeDirectory = runtimeDirectory;
        _waitsForGuestConnection = context.Document.VirtualMachine?.GuestConnection is not null;
        _events = Task.Run(PumpEventsAsync);
        _exit = Task.Run(WatchExitAsync);
    }

    /// <summary>
    /// Start = <c>cont</c> (QEMU was started paused). With <c>GuestConnection</c>, Start completes only once the guest
    /// opens the guest connection port; if the caller gives up first, the VM is stopped and reset, so the system is
    /// back to Created (not running, not booted) as the engine reports it.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await ExecuteAsync("cont", cancellationToken).ConfigureAwait(false);
        if (!_waitsForGuestConnection)
        {
            return;
        }

        try
        {
            await Volatile.Read(ref _guestConnected).Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                await _qmp.ExecuteAsync("stop", cancellationToken: CancellationToken.None).ConfigureAwait(false);
                await _qmp.ExecuteAsync("system_reset", cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is QmpDisconnectedException or QmpErrorException)
            {
                // QEMU is gone or going: the stop is reported through the exit watcher.
            }

            Volatile.Write(ref _guestConnected, NewSignal());
            throw;
        }
    }

    /// <summary>
    /// Presses the ACPI power button, and again after 1, 2, 4, 8 and 16 s while QEMU runs: a guest that is still booting
    /// (no ACPI handler yet) would otherwise lose the request. Completion is not the exit (the engine waits for that).
    /// </summary>
    public async Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken)
    {
        if (options?.Mechanism is ShutdownMechanism.GuestConnection)
        {
            throw HcsException.InvalidJson("$.Mechanism", "shutdown through the guest connection needs a guest agent protocol, not supported yet; use IntegrationService (the ACPI power button) or omit Mechanism");
        }

        await ExecuteAsync("system_powerdown", cancellationToken).ConfigureAwait(false);
        _ = RepeatAsync("system_powerdown");
    }

    /// <summary>
    /// Repeats <paramref name="command"/> after 1, 2, 4, 8 and 16 s, until QEMU ends or the guest answers (powers off,
    /// resets or panics). A new request replaces the previous repetition.
    /// </summary>
    private async Task RepeatAsync(string command)
    {
        using var repeat = CancellationTokenSource.CreateLinkedTokenSource(_ended.Token);
        var previous = Interlocked.Exchange(ref _repeat, repeat);
        CancelQuietly(previous);
        try
        {
            foreach (var seconds in (int[])[1, 2, 4, 8, 16])
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), _context.Time, repeat.Token).ConfigureAwait(false);
                await _qmp.ExecuteAsync(command, cancellationToken: repeat.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or QmpDisconnectedException or QmpErrorException)
        {
            // QEMU ended, the guest answered, or QEMU refused the repeat: nothing left to press.
        }
        finally
        {
            Interlocked.CompareExchange(ref _repeat, null, repeat);
        }
    }

    /// <summary>The guest answered a repeated request (it powered off, reset or panicked): stop repeating.</summary>
    private void StopRepeating() => CancelQuietly(Volatile.Read(ref _repeat));

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That repetition already ended.
        }
    }

    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _terminating, 1);
        CloseGuestConnection("the VM was terminated");
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken) => ExecuteAsync("stop", cancellationToken);

    public Task ResumeAsync(CancellationToken cancellationToken) => ExecuteAsync("cont", cancellationToken);

    /// <summary>
    /// Runs a QMP command for a verb. If QMP goes away under it, QEMU is ending: wait (bounded) until its exit has been
    /// seen and reported, so the engine attributes the failure to the stop rather than to a protocol error.
    /// </summary>
    private async Task ExecuteAsync(string command, CancellationToken cancellationToken, System.Text.Json.Nodes.JsonObject? arguments = null)
    {
        try
        {
            await _qmp.ExecuteAsync(command, arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpDisconnectedException)
        {
            await _exit.WaitAsync(TimeSpan.FromSeconds(10), _context.Time, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }
    }

    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken) =>
        throw HcsException.InvalidJson("$", "saving a QEMU VM is not supported yet");

    /// <summary>
    /// Injects an NMI (HCS does the same), repeated after 1, 2, 4, 8 and 16 s while QEMU runs: an NMI that reaches a
    /// guest still booting, or that Linux swallows as a back-to-back NMI, is lost. A Linux guest panics on it when
    /// <c>kernel.unknown_nmi_panic</c> is set; the crash is then reported like any guest panic (its panic text may be
    /// missing from the crash log: printk in NMI context is deferred, and the VM pauses at the pvpanic notification).
    /// </summary>
    public async Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken)
    {
        await ExecuteAsync("inject-nmi", cancellationToken).ConfigureAwait(false);
        _ = RepeatAsync("inject-nmi");
    }

    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken) =>
        throw HcsException.InvalidJson("$.ResourcePath", $"resource path '{request?.ResourcePath}' is not supported by the QEMU backend yet");

    public async Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        // CPU time and resident memory of the QEMU process, from procfs (cheap: no QMP round trip).
        ulong cpu = 0, rss = 0;
        try
        {
            var stat = await File.ReadAllTextAsync($"/proc/{_process.Id}/stat", cancellationToken).ConfigureAwait(false);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture);
            cpu = ticks * 100_000; // USER_HZ = 100: one tick is 10 ms = 100,000 × 100 ns
            rss = ulong.Parse(fields[21], CultureInfo.InvariantCulture) * (ulong)Environment.SystemPageSize;
        }
        catch (IOException)
        {
            // The process is gone: report zeros.
        }

        return new BackendProperties
        {
            RuntimeOsType = OsType.Linux,
            Processor = new ProcessorStats { TotalRuntime100ns = cpu },
            MemoryStats = new MemoryStats { MemoryUsagePrivateWorkingSetBytes = rss, MemoryUsageCommitBytes = rss },
        };
    }

    private async Task PumpEventsAsync()
    {
        await foreach (var e in _qmp.Events.ReadAllAsync().ConfigureAwait(false))
        {
            var guest = e.Data is { } data && data.TryGetProperty("guest", out var g) && g.GetBoolean();
            if (e.Name is "SHUTDOWN" or "RESET" or "GUEST_PANICKED")
            {
                StopRepeating();
            }

            switch (e.Name)
            {
                case "SHUTDOWN" when guest:
                    CloseGuestConnection("the guest powered off");
                    _context.Events.Stopped(new BackendExit(BackendExitCause.GuestPowerOff));
                    break;
                case "RESET" when guest:
                    _context.Events.GuestReset();
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

                    break;
                case "GUEST_PANICKED":
                    var report = new CrashReport { SystemId = _context.Id };
                    _context.Events.CrashInitiated(report);
                    var log = await ConsoleTailAsync().ConfigureAwait(false);
                    _context.Events.CrashReported(report with { CrashLog = log });
                    CloseGuestConnection("the guest crashed");
                    _context.Events.Stopped(new BackendExit(BackendExitCause.GuestCrash, Detail: log));
                    break;
            }
        }
    }

    /// <summary>
    /// Reports SystemGuestConnectionClosed once per connection: when the guest closes the port, or when the VM goes away
    /// with the connection open (before the stop is reported, so SystemExited stays the last event).
    /// </summary>
    private void CloseGuestConnection(string reason)
    {
        var connected = Volatile.Read(ref _guestConnected);
        if (connected.Task.IsCompleted && Interlocked.CompareExchange(ref _guestConnected, NewSignal(), connected) == connected)
        {
            _context.Events.GuestConnectionClosed(new System.Text.Json.Nodes.JsonObject
            {
                ["Port"] = QemuCommandLine.GuestConnectionPortName,
                ["Reason"] = reason,
            }.ToJsonString());
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The (device id, open) of a VSERPORT_CHANGE event.</summary>
    private static (string? Id, bool Open) PortOf(QmpEvent e) =>
        e.Data is { } data && data.TryGetProperty("id", out var id) && data.TryGetProperty("open", out var open)
            ? (id.GetString(), open.GetBoolean())
            : (null, false);

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
        await _ended.CancelAsync().ConfigureAwait(false);
        await _events.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        CloseGuestConnection("the VM ended");
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
        _ended.Dispose();
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
