// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Fake;

/// <summary>
/// One in-memory system. Tests drive it as the guest would (<see cref="PowerOff"/>, <see cref="Panic"/>,
/// <see cref="Reset"/>, <see cref="DropGuestConnection"/>) or as a dying worker (<see cref="KillWorker"/>).
/// Scheduled guest actions wait while the system is paused, as a paused guest does.
/// A fake system outlives the engine that created it when the engine detaches (<see cref="DetachAsync"/>) or is
/// abandoned (a simulated daemon crash): it keeps "running", remembers how it ends meanwhile, and a new engine given
/// the same <see cref="FakeBackend"/> re-adopts it from its runtime facts.
/// </summary>
public sealed class FakeSystem : IBackendSystem, IBackendProcessHost
{
    private readonly BackendSystemContext _context;
    private readonly FakeScript _script;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _alive = new();
    private readonly Dictionary<string, Attachment> _attachments = new(StringComparer.Ordinal); // guarded by _gate
    private Action? _deferred; // guarded by _gate: a guest action that fired while paused
    private bool _running; // guarded by _gate
    private bool _paused; // guarded by _gate
    private bool _dead; // guarded by _gate
    private TimeSpan _cpu; // guarded by _gate
    private DateTimeOffset _runningSince; // guarded by _gate
    private ulong _memoryMb;
    private readonly List<FakeProcess> _processes = []; // guarded by _gate
    private IBackendEventSink _events; // where events go: the engine that created or last adopted it (a no-op sink while detached)
    private BackendExit? _exit; // guarded by _gate: how it ended, for an adoption after the fact
    private int _adoptions; // guarded by _gate
    private bool _detached; // guarded by _gate

    internal FakeSystem(BackendSystemContext context, FakeScript script)
    {
        _context = context;
        _script = script;
        _events = context.Events;
        _memoryMb = context.Document.VirtualMachine?.ComputeTopology?.Memory?.SizeInMB
            ?? context.Document.Container?.Memory?.SizeInMB ?? 256;
        Behaviour = GuestBehaviour.Parse(context.Document.VirtualMachine?.Chipset?.LinuxKernelDirect?.KernelCmdLine);
    }

    /// <summary>The guest's scripted behaviour.</summary>
    public GuestBehaviour Behaviour { get; }

    /// <summary>Identifies this incarnation of the id in its runtime facts, so a re-adoption finds this very system.</summary>
    public Guid InstanceId { get; } = Guid.NewGuid();

    /// <summary>The runtime facts it reports (and <see cref="FakeBackend.AdoptAsync"/> reads back).</summary>
    public string RuntimeFacts => $"{{\"FakeInstance\":\"{InstanceId}\"}}";

    /// <summary>True after <see cref="DetachAsync"/> until it is adopted again.</summary>
    public bool IsDetached
    {
        get
        {
            lock (_gate)
            {
                return _detached;
            }
        }
    }

    /// <summary>Number of successful re-adoptions.</summary>
    public int Adoptions
    {
        get
        {
            lock (_gate)
            {
                return _adoptions;
            }
        }
    }

    /// <summary>How it ended (null while alive).</summary>
    public BackendExit? Exit
    {
        get
        {
            lock (_gate)
            {
                return _exit;
            }
        }
    }

    /// <summary>Number of Start calls received.</summary>
    public int StartCalls => Volatile.Read(ref _startCalls);

    private int _startCalls;

    private IBackendEventSink Events => Volatile.Read(ref _events);

    /// <inheritdoc />
    public ValueTask DetachAsync()
    {
        if (_script.FailDetach)
        {
            return ValueTask.FromException(new NotSupportedException("scripted: this fake system cannot be detached"));
        }

        lock (_gate)
        {
            _detached = true;
        }

        Volatile.Write(ref _events, NoEvents.Instance);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Cuts the system off from its engine as a daemon crash would: it keeps running, and the engine that created
    /// it never hears from it again (unlike <see cref="DetachAsync"/>, nothing marks it detached).
    /// </summary>
    public void Sever() => Volatile.Write(ref _events, NoEvents.Instance);

    /// <summary>Re-attaches to a new engine: its real state, or how it ended while nobody watched.</summary>
    internal BackendAdoption Adopt(BackendAdoptContext context)
    {
        if (_script.FailAdopt is { } hr)
        {
            throw new HcsException(hr, "FakeBackend.Adopt", context.Id);
        }

        lock (_gate)
        {
            if (_dead)
            {
                return new BackendAdoption(null, SystemState.Stopped, _exit ?? new BackendExit(BackendExitCause.WorkerDied));
            }

            _detached = false;
            _adoptions++;
            Volatile.Write(ref _events, context.Events);
            var state = _paused ? SystemState.Paused : _running ? SystemState.Running : SystemState.Created;
            return new BackendAdoption(this, state, null);
        }
    }

    /// <summary>True between a successful start and the stop.</summary>
    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _running && !_dead;
            }
        }
    }

    /// <summary>True while paused.</summary>
    public bool IsPaused
    {
        get
        {
            lock (_gate)
            {
                return _paused;
            }
        }
    }

    /// <summary>True once the worker is gone (terminated, crashed, or powered off).</summary>
    public bool IsDead
    {
        get
        {
            lock (_gate)
            {
                return _dead;
            }
        }
    }

    /// <summary>Number of shutdown requests received.</summary>
    public int ShutdownRequests { get; private set; }

    /// <summary>Number of terminate calls received (the engine must send at most one).</summary>
    public int TerminateCalls { get; private set; }

    /// <summary>Memory size after Modify.</summary>
    public ulong MemorySizeInMB => Interlocked.Read(ref _memoryMb);

    /// <summary>Attached SCSI disks after Modify, by resource path.</summary>
    public IReadOnlyCollection<string> Attachments
    {
        get
        {
            lock (_gate)
            {
                return [.. _attachments.Keys];
            }
        }
    }

    /// <summary>Processes started in this system.</summary>
    public IReadOnlyList<FakeProcess> Processes
    {
        get
        {
            lock (_gate)
            {
                return [.. _processes];
            }
        }
    }

    /// <inheritdoc />
    public Task<IBackendProcess> CreateProcessAsync(ProcessParameters parameters, IBackendProcessSink events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (string.IsNullOrWhiteSpace(parameters.CommandLine) && parameters.CommandArgs is not { Count: > 0 })
        {
            throw HcsException.InvalidJson("$.CommandLine", "a command line or command arguments are required");
        }

        var process = new FakeProcess(parameters, events);
        lock (_gate)
        {
            if (_dead)
            {
                throw new HcsException(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, "FakeBackend.CreateProcess", _context.Id);
            }

            _processes.Add(process);
        }

        process.Start();
        return Task.FromResult<IBackendProcess>(process);
    }

    /// <summary>The path the last Save wrote.</summary>
    public string? SavedTo { get; private set; }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _startCalls);
        if (_script.HangStart)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _context.Time, cancellationToken).ConfigureAwait(false);
        }

        if (_script.StartDelay > TimeSpan.Zero)
        {
            await Task.Delay(_script.StartDelay, _context.Time, cancellationToken).ConfigureAwait(false);
        }

        if (_script.FailStart is { } hr)
        {
            if (_script.ExitBeforeFailingStart)
            {
                KillWorker(1);
                throw new HcsException(hr, "FakeBackend.Start", _context.Id,
                    result: ResultError.From(hr, "the worker exited during Start: scripted failure", "fake"));
            }

            throw new HcsException(hr, "FakeBackend.Start", _context.Id);
        }

        lock (_gate)
        {
            _running = true;
            _runningSince = _context.Time.GetUtcNow();
        }

        switch (Behaviour.Verb)
        {
            case GuestVerb.PowerOff:
                After(Behaviour.After, PowerOff);
                break;
            case GuestVerb.Panic:
                After(Behaviour.After, () => Panic("Kernel panic - not syncing: hcstest"));
                break;
            case GuestVerb.Reboot:
                After(Behaviour.After, Reset);
                break;
            case GuestVerb.VirtioPorts:
                After(Behaviour.After, CloseVirtioPorts);
                break;
        }

        if (_script.DropGuestConnectionAfter is { } drop)
        {
            After(drop, DropGuestConnection);
        }
    }

    /// <inheritdoc />
    public Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken)
    {
        if (!_script.IgnoreShutdown)
        {
            After(_script.ShutdownDelay, PowerOff);
        }

        ShutdownRequests++; // counted once the power-off is scheduled: a test that sees the request may advance a fake clock

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task TerminateAsync(CancellationToken cancellationToken)
    {
        TerminateCalls++;
        Die(new BackendExit(BackendExitCause.Terminated));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken)
    {
        if (_script.FailPause is { } hr)
        {
            throw new HcsException(hr, "FakeBackend.Pause", _context.Id);
        }

        lock (_gate)
        {
            _paused = true;
            _cpu += _context.Time.GetUtcNow() - _runningSince;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ResumeAsync(CancellationToken cancellationToken)
    {
        Action? deferred;
        lock (_gate)
        {
            _paused = false;
            _runningSince = _context.Time.GetUtcNow();
            deferred = _deferred;
            _deferred = null;
        }

        deferred?.Invoke();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task SaveAsync(SaveOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SaveType == SaveType.AsTemplate)
        {
            throw HcsException.InvalidJson("$.SaveType", "saving as a template is not supported");
        }

        if (string.IsNullOrEmpty(options.SaveStateFilePath))
        {
            throw HcsException.InvalidJson("$.SaveStateFilePath", "a save state file path is required");
        }

        await File.WriteAllTextAsync(options.SaveStateFilePath,
            $"{{\"FakeSavedState\":\"{_context.Id}\",\"MemorySizeInMB\":{MemorySizeInMB}}}", cancellationToken).ConfigureAwait(false);
        SavedTo = options.SaveStateFilePath;
    }

    /// <inheritdoc />
    public Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken)
    {
        After(TimeSpan.Zero, () => Panic("sysrq: Trigger a crash\nKernel panic - not syncing: sysrq triggered crash"));
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var path = request.ResourcePath ?? "";
        if (path == "VirtualMachine/ComputeTopology/Memory/SizeInMB" && request.Settings is { } size)
        {
            Interlocked.Exchange(ref _memoryMb, size.GetUInt64());
            return Task.CompletedTask;
        }

        if (path.StartsWith("VirtualMachine/Devices/Scsi/", StringComparison.Ordinal) && path.Contains("/Attachments/", StringComparison.Ordinal))
        {
            lock (_gate)
            {
                if (request.RequestType == ModifyRequestType.Remove)
                {
                    if (!_attachments.Remove(path))
                    {
                        throw new HcsException(HResults.ERROR_NOT_FOUND, "FakeBackend.Modify", _context.Id);
                    }
                }
                else
                {
                    _attachments[path] = request.Settings is { } json
                        ? HcsJson.Deserialize<Attachment>(json.GetRawText())
                        : throw HcsException.InvalidJson("$.Settings", "an Attachment is required");
                }
            }

            return Task.CompletedTask;
        }

        throw HcsException.InvalidJson("$.ResourcePath", $"resource path '{path}' is not supported by the fake backend");
    }

    /// <inheritdoc />
    public async Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(types);
        if (_script.PropertiesDelay > TimeSpan.Zero)
        {
            await Task.Delay(_script.PropertiesDelay, _context.Time, cancellationToken).ConfigureAwait(false);
        }

        TimeSpan cpu;
        lock (_gate)
        {
            cpu = _cpu + (_running && !_paused && !_dead ? _context.Time.GetUtcNow() - _runningSince : TimeSpan.Zero);
        }

        var bytes = MemorySizeInMB * 1024 * 1024;
        var isVm = _context.Document.VirtualMachine is not null;
        return new BackendProperties
        {
            RuntimeOsType = OsType.Linux,
            Processor = new ProcessorStats { TotalRuntime100ns = (ulong)cpu.Ticks, RuntimeUser100ns = (ulong)cpu.Ticks, RuntimeKernel100ns = 0 },
            MemoryStats = new MemoryStats { MemoryUsageCommitBytes = bytes, MemoryUsageCommitPeakBytes = bytes, MemoryUsagePrivateWorkingSetBytes = bytes },
            Storage = new StorageStats { ReadCountNormalized = 0, ReadSizeBytes = 0, WriteCountNormalized = 0, WriteSizeBytes = 0 },
            Memory = isVm
                ? new MemoryInformationForVm
                {
                    VirtualNodeCount = 1,
                    VirtualMachineMemory = new VmMemory { AssignedMemory = MemorySizeInMB, AvailableMemory = (int)Math.Min(MemorySizeInMB, int.MaxValue), ReservedMemory = 0 },
                }
                : null,
        };
    }

    /// <summary>The guest powers off.</summary>
    public void PowerOff()
    {
        var exit = new BackendExit(BackendExitCause.GuestPowerOff);
        if (Die(exit))
        {
            Events.Stopped(exit);
        }
    }

    /// <summary>The guest panics: CrashInitiated, CrashReport with <paramref name="log"/>, then the stop.</summary>
    public void Panic(string log)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return;
            }
        }

        var parameters = new List<ulong> { 0xDEAD };
        var report = new CrashReport { SystemId = _context.Id, CrashParameters = parameters, CrashLog = log };
        Events.CrashInitiated(report with { CrashLog = null });
        Events.CrashReported(report);
        var exit = new BackendExit(BackendExitCause.GuestCrash, CrashParameters: parameters, Detail: log);
        if (Die(exit))
        {
            Events.Stopped(exit);
        }
    }

    /// <summary>The guest resets (reboots).</summary>
    public void Reset() => Events.GuestReset();

    /// <summary>The guest connection drops.</summary>
    public void DropGuestConnection() => Events.GuestConnectionClosed("{\"Reason\":\"fake guest connection dropped\"}");

    /// <summary>
    /// The guest opens, writes to and closes each <c>Devices.VirtioSerial</c> port (the <c>vport</c> verb): one guest
    /// connection closed per port, with the EventData the QEMU backend sends (the written line goes nowhere).
    /// </summary>
    public void CloseVirtioPorts()
    {
        foreach (var (key, port) in _context.Document.VirtualMachine?.Devices?.VirtioSerial?.Ports ?? new Dictionary<string, VirtioSerialPort>())
        {
            Events.GuestConnectionClosed(HcsJson.Serialize(new GuestConnectionClosedInfo
            {
                Reason = "the guest closed the virtio-serial port",
                Port = key,
                Name = port.Name,
                NamedPipe = port.NamedPipe,
                Timestamp = _context.Time.GetUtcNow(),
            }));
        }
    }

    /// <summary>A remote console client connects (true) or disconnects (false).</summary>
    public void RemoteConsole(bool connected) =>
        Events.RemoteConsoleStateChanged(connected ? "{\"Connected\":true}" : "{\"Connected\":false}");

    /// <summary>The worker process dies on its own (like <c>kill -9</c> of QEMU) with <paramref name="exitCode"/>.</summary>
    public void KillWorker(uint exitCode = 137)
    {
        var exit = new BackendExit(BackendExitCause.WorkerDied, exitCode,
            string.Create(CultureInfo.InvariantCulture, $"worker exited with status {exitCode}"));
        if (Die(exit))
        {
            Events.Stopped(exit);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Die(new BackendExit(BackendExitCause.Terminated));

        // Processes die with the system's resources, after the engine has recorded the stop.
        foreach (var process in Processes)
        {
            process.Kill(9);
        }

        _alive.Dispose();
        return ValueTask.CompletedTask;
    }

    private bool Die(BackendExit exit)
    {
        lock (_gate)
        {
            if (_dead)
            {
                return false;
            }

            _dead = true;
            _running = false;
            _exit = exit;
        }

        _alive.Cancel();

        return true;
    }

    /// <summary>
    /// Runs a guest action after <paramref name="delay"/>; while paused it waits for resume. The delay starts now, on the
    /// caller's thread (so a test on a fake clock may advance it as soon as the call that scheduled it returned); the
    /// action runs on the thread pool.
    /// </summary>
    private void After(TimeSpan delay, Action action)
    {
        var token = _alive.Token;
        var wait = delay > TimeSpan.Zero ? Task.Delay(delay, _context.Time, token) : Task.CompletedTask;
        _ = Task.Run(async () =>
        {
            try
            {
                await wait.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_gate)
            {
                if (_dead)
                {
                    return;
                }

                if (_paused)
                {
                    _deferred += action;
                    return;
                }
            }

            action();
        }, CancellationToken.None);
    }
}
