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
    /// <summary>hcsshim's resource path for changing a running VM's processor limits (<c>ProcessorLimits</c>).</summary>
    public const string ProcessorLimitsPath = "VirtualMachine/ComputeTopology/Processor/Limits";

    private readonly BackendSystemContext _context;
    private readonly QemuBackend _backend;
    private readonly Process _process;
    private readonly QmpClient _qmp;
    private readonly string _runtimeDirectory;
    private readonly Task _events;
    private readonly Task _exit;
    private readonly Lock _gate = new();
    private CpuControls _controls; // guarded by _gate
    private CpuCgroup? _cgroup; // guarded by _gate
    private bool _released; // guarded by _gate
    private int _terminating;

    public QemuSystem(BackendSystemContext context, QemuBackend backend, Process process, QmpClient qmp, string runtimeDirectory,
        CpuControls controls, CpuCgroup? cgroup)
    {
        _context = context;
        _backend = backend;
        _process = process;
        _qmp = qmp;
        _runtimeDirectory = runtimeDirectory;
        _controls = controls;
        _cgroup = cgroup;
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

    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ResourcePath != ProcessorLimitsPath)
        {
            throw HcsException.InvalidJson("$.ResourcePath", $"resource path '{request.ResourcePath}' is not supported by the QEMU backend yet");
        }

        ModifyProcessorLimits(request);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Applies a <c>ProcessorLimits</c> update: members set replace the current Limit/Weight, members omitted are kept.
    /// A VM created without CPU controls gets its cgroup now (QEMU, all threads, is moved into it).
    /// </summary>
    private void ModifyProcessorLimits(ModifySettingRequest request)
    {
        const string Label = "QemuBackend.Modify";
        if (request.RequestType is not (null or ModifyRequestType.Update))
        {
            throw HcsException.InvalidJson("$.RequestType", $"processor limits can only be updated (RequestType Update or omitted), not {request.RequestType}");
        }

        if (request.GuestRequest is not null)
        {
            throw HcsException.InvalidJson("$.GuestRequest", "there is no guest agent to forward a guest request to");
        }

        var limits = request.Settings is { } settings
            ? HcsJson.Deserialize<ProcessorLimits>(settings, "$.Settings")
            : throw HcsException.InvalidJson("$.Settings", "required member 'Settings' (ProcessorLimits) is missing");
        if (limits.Reservation is not null)
        {
            throw HcsException.InvalidJson("$.Settings.Reservation", "CPU reservations are not supported (cgroups cannot reserve CPU time)");
        }

        if (limits.MaximumFrequencyMHz is not null)
        {
            throw HcsException.InvalidJson("$.Settings.MaximumFrequencyMHz", "processor frequency caps are not supported");
        }

        var member = $"$.Settings.{(limits.Limit is not null ? "Limit" : "Weight")}";
        lock (_gate)
        {
            if (_released)
            {
                throw new HcsException(HResults.HCS_E_INVALID_STATE, Label, _context.Id);
            }

            var next = _controls.With(limits);
            if (_cgroup is not null)
            {
                _cgroup.Apply(next, member);
            }
            else if (next.IsSet)
            {
                var cgroup = _backend.CreateCgroup(_context.Id, next, member, Label);
                try
                {
                    cgroup.AddProcess(_process.Id, member);
                }
                catch
                {
                    cgroup.TryRemove();
                    throw;
                }

                _cgroup = cgroup;
            }

            _controls = next;
        }
    }

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
            }
        }
    }

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

        CpuCgroup? cgroup;
        lock (_gate)
        {
            _released = true;
            cgroup = _cgroup;
            _cgroup = null;
        }

        // QEMU has been reaped: its cgroup is empty and can go, with the parent if no other VM is in it.
        if (cgroup is not null)
        {
            await cgroup.RemoveAsync(_context.Time).ConfigureAwait(false);
        }
    }
}
