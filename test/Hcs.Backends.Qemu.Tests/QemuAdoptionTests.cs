// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Re-adoption of running VMs after a service restart, at the backend seam (no engine): one <see cref="QemuBackend"/>
/// creates a VM and lets go of it (detach, or its process is SIGKILLed), a new backend instance adopts it from the
/// runtime facts the first one reported. Real QEMU, the test guest; one VM at a time.
/// </summary>
public sealed class QemuAdoptionTests : IAsyncLifetime
{
    private static readonly TimeSpan s_boot = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qa-");
    private readonly List<IBackendSystem> _systems = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.DisposeAsync();
        }

        // Nothing of ours may outlive a test, whatever it did.
        foreach (var pid in QemusOf(_run.FullName))
        {
            Process.GetProcessById(pid).Kill();
        }

        _run.Delete(recursive: true);
    }

    private QemuBackend NewBackend() => new(new QemuSettings(), _run.FullName);

    private string RuntimeDirectory(string id) => QemuBackend.RuntimeDirectoryOf(_run.FullName, id);

    private static SchemaComputeSystem Document(string verb, bool guestConnection = false)
    {
        var document = TestGuest.Document(verb);
        return guestConnection ? document with { VirtualMachine = document.VirtualMachine! with { GuestConnection = new GuestConnection() } } : document;
    }

    private static async Task<(IBackendSystem System, RecordingSink Sink)> CreateAsync(QemuBackend backend, string id, SchemaComputeSystem document)
    {
        var sink = new RecordingSink();
        var system = await backend.CreateAsync(new BackendSystemContext(id, document, sink, TimeProvider.System), Ct);
        return (system, sink);
    }

    /// <summary>Adopts with a new sink; a live system is disposed (terminated) at the end of the test unless the test did.</summary>
    private async Task<(BackendAdoption Adoption, RecordingSink Sink)> AdoptAsync(QemuBackend backend, string id, SchemaComputeSystem document, string facts)
    {
        var sink = new RecordingSink();
        var adoption = await backend.AdoptAsync(new BackendAdoptContext(id, document, sink, TimeProvider.System, facts), Ct);
        if (adoption.System is { } system)
        {
            _systems.Add(system);
        }

        return (adoption, sink);
    }

    /// <summary>Pids of live (non-zombie) processes whose command line mentions <paramref name="marker"/>.</summary>
    private static List<int> QemusOf(string marker) =>
        [.. Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit)).Select(n => int.Parse(n!, CultureInfo.InvariantCulture))
            .Where(pid => pid != Environment.ProcessId && ProcessStat.Read(pid) is { IsZombie: false }
                && HostProcess.CommandLineOf(pid).Any(a => a.Contains(marker, StringComparison.Ordinal))
                && HostProcess.CommandLineOf(pid) is [var program, ..] && program.Contains("qemu", StringComparison.Ordinal))];

    private static async Task WaitForConsoleAsync(string runtimeDirectory, string text)
    {
        var log = Path.Combine(runtimeDirectory, QemuCommandLine.ConsoleLog);
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(log) && (await File.ReadAllTextAsync(log, Ct)).Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < s_boot, $"'{text}' never appeared on the console");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task WaitGoneAsync(int pid, ulong startTime) =>
        Assert.True(await new HostProcess(pid, startTime).WaitForExitAsync(TimeSpan.FromSeconds(10), TimeProvider.System, Ct), $"QEMU pid {pid} is still alive");

    [Fact]
    public async Task RuntimeFacts_AreReportedAfterCreate_AndNameTheLiveQemuAndItsRuntimeDirectory()
    {
        var (system, sink) = await CreateAsync(NewBackend(), "facts", Document("idle"));
        _systems.Add(system);
        var facts = sink.ParsedFacts;
        var run = RuntimeDirectory("facts");
        Assert.Equal(run, facts.RuntimeDirectory);
        Assert.Equal(Path.Combine(run, QemuCommandLine.QmpSocket), facts.QmpSocket);
        Assert.Equal(Path.Combine(run, QemuCommandLine.ConsoleLog), facts.ConsoleLog);
        Assert.Equal(Path.Combine(run, QemuCommandLine.QemuLog), facts.QemuLog);
        Assert.False(facts.Started);
        Assert.Equal(ProcessStat.Read(facts.Pid)!.Value.StartTime, facts.StartTime);
        Assert.Equal(int.Parse(File.ReadAllText(Path.Combine(run, QemuCommandLine.PidFile)).Trim(), CultureInfo.InvariantCulture), facts.Pid);

        // QEMU's stdio is not ours: stdin is /dev/null, stdout and stderr the log file in its runtime directory, and it
        // has a session of its own (a signal to our process group or terminal does not reach it).
        Assert.Equal("/dev/null", new FileInfo($"/proc/{facts.Pid}/fd/0").LinkTarget);
        Assert.Equal(facts.QemuLog, new FileInfo($"/proc/{facts.Pid}/fd/1").LinkTarget);
        Assert.Equal(facts.QemuLog, new FileInfo($"/proc/{facts.Pid}/fd/2").LinkTarget);
        var stat = File.ReadAllText($"/proc/{facts.Pid}/stat");
        var session = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3];
        Assert.Equal(facts.Pid.ToString(CultureInfo.InvariantCulture), session);
    }

    [Fact]
    public async Task Adopt_ARunningVmDetachedByAnotherBackend_IsRunning_WorksAndReportsItsPowerOff()
    {
        var document = Document("idle", guestConnection: true);
        var (first, created) = await CreateAsync(NewBackend(), "running", document);
        await first.StartAsync(Ct);
        Assert.True(created.ParsedFacts is { Started: true, GuestConnected: true }, created.Facts);
        var facts = created.Facts;
        var pid = created.ParsedFacts.Pid;
        await first.DetachAsync();
        await first.DisposeAsync(); // after a detach: releases nothing more, kills nothing
        Assert.True(new HostProcess(pid, created.ParsedFacts.StartTime).IsAlive, "detach stopped QEMU");
        Assert.True(Directory.Exists(RuntimeDirectory("running")));
        var eventsAtDetach = created.Events.Count;

        var (adoption, sink) = await AdoptAsync(NewBackend(), "running", document, facts);
        Assert.Null(adoption.Exit);
        Assert.Equal(SystemState.Running, adoption.State);
        var system = adoption.System!;
        Assert.Equal(pid, sink.ParsedFacts.Pid);

        // The adopted system is driven as usual.
        var properties = await system.GetPropertiesAsync(new HashSet<SystemPropertyType> { SystemPropertyType.Statistics, SystemPropertyType.Memory }, Ct);
        Assert.True(properties.Processor!.TotalRuntime100ns > 0);
        Assert.NotNull(properties.Memory);
        await system.PauseAsync(null, Ct);
        await system.ResumeAsync(Ct);
        await system.ModifyAsync(new ModifySettingRequest
        {
            ResourcePath = "VirtualMachine/ComputeTopology/Memory/SizeInMB",
            RequestType = ModifyRequestType.Update,
            Settings = System.Text.Json.JsonSerializer.SerializeToElement(200),
        }, Ct);
        Assert.Equal(200ul, sink.ParsedFacts.BalloonTargetMb);

        // Its exit is reported without being its parent: the guest powers off (SHUTDOWN), the guest connection it
        // had open before the restart closes first.
        await system.RequestShutdownAsync(null, Ct);
        var exit = await sink.Stopped.WaitAsync(s_boot, Ct);
        Assert.Equal(BackendExitCause.GuestPowerOff, exit.Cause);
        Assert.Equal(["GuestConnectionClosed", "Stopped GuestPowerOff"], sink.Events);
        Assert.Equal(eventsAtDetach, created.Events.Count); // nothing reached the detached system's sink

        var start = sink.ParsedFacts.StartTime;
        await system.DisposeAsync(); // the engine's cleanup after a stop: kill (-no-shutdown keeps QEMU) and remove
        _systems.Remove(system);
        await WaitGoneAsync(pid, start);
        Assert.False(Directory.Exists(RuntimeDirectory("running")));
    }

    [Fact]
    public async Task Adopt_APausedVm_IsPaused_RemovesThePartialFileOfASaveInFlight_AndTerminateKillsItByPid()
    {
        var document = Document("idle");
        var (first, created) = await CreateAsync(NewBackend(), "paused", document);
        await first.StartAsync(Ct);
        await first.PauseAsync(null, Ct);
        await first.DetachAsync();

        // As if the service died during a Save: the facts name the partial file next to the target.
        var partial = Path.Combine(_run.FullName, ".saved.vmrs.0123456789abcdef0123456789abcdef.tmp");
        await File.WriteAllTextAsync(partial, "partial", Ct);
        var facts = created.ParsedFacts with { SaveTemporaryFile = partial };

        var (adoption, sink) = await AdoptAsync(NewBackend(), "paused", document, facts.ToJson());
        Assert.Equal(SystemState.Paused, adoption.State);
        Assert.False(File.Exists(partial), "the partial file of the interrupted Save is still there");
        Assert.Null(sink.ParsedFacts.SaveTemporaryFile);

        await adoption.System!.TerminateAsync(Ct);
        Assert.False(new HostProcess(facts.Pid, facts.StartTime).IsAlive);
        Assert.Empty(QemusOf(RuntimeDirectory("paused")));
        await Task.Delay(200, Ct);
        Assert.DoesNotContain(sink.Events, e => e.StartsWith("Stopped", StringComparison.Ordinal)); // Terminate's exit is the engine's to report
    }

    [Fact]
    public async Task Adopt_ACreatedVm_IsCreated_AndStartsInTheNewBackend()
    {
        var document = Document("idle");
        var (first, created) = await CreateAsync(NewBackend(), "created", document);
        await first.DetachAsync();

        var (adoption, sink) = await AdoptAsync(NewBackend(), "created", document, created.Facts);
        Assert.Equal(SystemState.Created, adoption.State);
        await adoption.System!.StartAsync(Ct);
        Assert.True(sink.ParsedFacts.Started);
        await WaitForConsoleAsync(RuntimeDirectory("created"), "hcs-guest: idle");
    }

    /// <summary>Polls <c>query-status</c> over a QMP connection of our own (the detached VM's monitor is free) until <paramref name="status"/>.</summary>
    private static async Task WaitForStatusAsync(string runtimeDirectory, string status)
    {
        await using var qmp = await QmpClient.ConnectAsync(Path.Combine(runtimeDirectory, QemuCommandLine.QmpSocket), Ct);
        var clock = Stopwatch.StartNew();
        while ((await qmp.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString() != status)
        {
            Assert.True(clock.Elapsed < s_boot, $"the VM never reached '{status}'");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Adopt_AVmWhoseGuestPoweredOffWhileTheServiceWasDown_EndsWithGuestPowerOff_AndItsQemuIsStopped()
    {
        var document = Document("poweroff:200");
        var (first, created) = await CreateAsync(NewBackend(), "off", document);
        await first.StartAsync(Ct);
        await first.DetachAsync();
        var facts = created.ParsedFacts;
        await WaitForStatusAsync(RuntimeDirectory("off"), "shutdown"); // -no-shutdown keeps QEMU after the guest's power-off

        var (adoption, _) = await AdoptAsync(NewBackend(), "off", document, created.Facts);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.GuestPowerOff, adoption.Exit!.Cause);
        await WaitGoneAsync(facts.Pid, facts.StartTime);
        Assert.False(Directory.Exists(RuntimeDirectory("off")));
    }

    [Fact]
    public async Task Adopt_AVmWhoseGuestPanickedWhileTheServiceWasDown_EndsWithGuestCrashAndTheConsoleTail()
    {
        var document = TestGuest.Document("panic:200", new Devices { GuestCrashReporting = new GuestCrashReporting() });
        var (first, created) = await CreateAsync(NewBackend(), "panicked", document);
        await first.StartAsync(Ct);
        await first.DetachAsync();
        var facts = created.ParsedFacts;
        await WaitForStatusAsync(RuntimeDirectory("panicked"), "guest-panicked"); // -action panic=pause

        var (adoption, _) = await AdoptAsync(NewBackend(), "panicked", document, created.Facts);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.GuestCrash, adoption.Exit!.Cause);
        // The console log holds what was read while a service ran: nobody reads the console FIFO while the service is
        // down, so what the guest printed meanwhile is not kept (the log stays bounded; docs/security.md).
        Assert.StartsWith("the guest crashed while the service was down; console:", adoption.Exit.Detail, StringComparison.Ordinal);
        await WaitGoneAsync(facts.Pid, facts.StartTime);
        Assert.False(Directory.Exists(RuntimeDirectory("panicked")));
    }

    [Fact]
    public async Task Adopt_AVmKilledWhileTheServiceWasDown_EndsWithWorkerDied_AndItsRuntimeDirectoryIsRemoved()
    {
        var document = Document("idle");
        var (first, created) = await CreateAsync(NewBackend(), "killed", document);
        await first.DetachAsync();
        var facts = created.ParsedFacts;
        Process.GetProcessById(facts.Pid).Kill();
        await WaitGoneAsync(facts.Pid, facts.StartTime);

        var (adoption, _) = await AdoptAsync(NewBackend(), "killed", document, created.Facts);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.WorkerDied, adoption.Exit!.Cause);
        Assert.Null(adoption.Exit.WorkerExitCode);
        Assert.Contains("while the service was down", adoption.Exit.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(RuntimeDirectory("killed")));
    }

    [Fact]
    public async Task Adopt_WithFactsNamingAReusedPidOrAnotherProcess_DoesNotAdoptOrTouchIt_AndLeavesNoQemuBehind()
    {
        var document = Document("idle");
        var (first, created) = await CreateAsync(NewBackend(), "reused", document);
        await first.DetachAsync();
        var real = created.ParsedFacts;
        using var other = Process.Start(new ProcessStartInfo("sleep", "300"))!;
        var otherStart = ProcessStat.Read(other.Id)!.Value.StartTime;
        try
        {
            // The pid now belongs to a process started at another time (pid reuse): not ours.
            var (reused, _) = await AdoptAsync(NewBackend(), "reused", document, (real with { Pid = other.Id }).ToJson());
            Assert.Null(reused.System);
            Assert.Equal(BackendExitCause.WorkerDied, reused.Exit!.Cause);
            Assert.Contains("another process", reused.Exit.Detail, StringComparison.Ordinal);
            Assert.True(new HostProcess(other.Id, otherStart).IsAlive, "adoption killed a process that is not its QEMU");

            // Right pid and start time, but not the QEMU of this runtime directory.
            var (stranger, _) = await AdoptAsync(NewBackend(), "reused", document, (real with { Pid = other.Id, StartTime = otherStart }).ToJson());
            Assert.Null(stranger.System);
            Assert.Contains("is not the QEMU of", stranger.Exit!.Detail, StringComparison.Ordinal);
            Assert.True(new HostProcess(other.Id, otherStart).IsAlive, "adoption killed a process that is not its QEMU");

            // The real QEMU of that directory (named by its qemu.pid) is not left running unmanaged: no duplicate later.
            await WaitGoneAsync(real.Pid, real.StartTime);
            Assert.False(Directory.Exists(RuntimeDirectory("reused")));

            // Garbage is no facts at all.
            var (garbage, _) = await AdoptAsync(NewBackend(), "reused", document, "{not json");
            Assert.Contains("missing or unreadable", garbage.Exit!.Detail, StringComparison.Ordinal);
        }
        finally
        {
            other.Kill();
        }
    }

    [Fact]
    public async Task CleanOrphans_LeavesALiveQemuWithNoRecordRunning_RemovesDirectoriesWithNothingAlive_AndLeavesKnownAndForeignOnes()
    {
        var (first, created) = await CreateAsync(NewBackend(), "orphan", Document("idle"));
        await first.DetachAsync();
        var facts = created.ParsedFacts;
        var stale = Directory.CreateDirectory(Path.Combine(_run.FullName, "stale"));
        await File.WriteAllTextAsync(Path.Combine(stale.FullName, QemuCommandLine.PidFile), "1\n", Ct); // pid 1 is never killed
        var known = Directory.CreateDirectory(RuntimeDirectory("known"));
        var foreign = Directory.CreateDirectory(Path.Combine(_run.FullName, "foreign"));
        await File.WriteAllTextAsync(Path.Combine(foreign.FullName, "notes.txt"), "not ours", Ct);

        var lines = await NewBackend().CleanOrphansAsync(new HashSet<string> { "known" }, Ct);

        Assert.Equal(2, lines.Count);
        Assert.Contains(lines, l => l.StartsWith(OrphanLines.LeftRunning, StringComparison.Ordinal)
                                   && l.Contains(RuntimeDirectory("orphan"), StringComparison.Ordinal)
                                   && l.Contains($"pid {facts.Pid}", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains(stale.FullName, StringComparison.Ordinal) && l.Contains("no QEMU", StringComparison.Ordinal));
        Assert.True(new HostProcess(facts.Pid, facts.StartTime).IsAlive, "a live QEMU is never killed for lack of a record");
        Assert.True(Directory.Exists(RuntimeDirectory("orphan")));
        Assert.False(stale.Exists || Directory.Exists(stale.FullName));
        Assert.True(Directory.Exists(known.FullName));
        Assert.True(File.Exists(Path.Combine(foreign.FullName, "notes.txt")));

        // Asked explicitly, the sweep kills it and removes its directory.
        var killed = await NewBackend().CleanOrphansAsync(new HashSet<string> { "known" }, killRunning: true, Ct);
        Assert.Contains($"pid {facts.Pid}", Assert.Single(killed), StringComparison.Ordinal);
        await WaitGoneAsync(facts.Pid, facts.StartTime);
        Assert.False(Directory.Exists(RuntimeDirectory("orphan")));
    }

    [Fact]
    public async Task KilledService_LeavesQemuRunningAndAdoptable_AndANewBackendAdoptsAndTerminatesIt()
    {
        // A separate process (this test assembly, re-executed as AdoptionHelper) creates and starts a VM with the
        // backend, prints its facts, and is then SIGKILLed like a crashed hcsd.
        using var helper = AdoptionHelper.Start(_run.FullName, "survivor");
        string? facts = null;
        var clock = Stopwatch.StartNew();
        while (await helper.StandardOutput.ReadLineAsync(Ct).AsTask().WaitAsync(s_boot, Ct) is { } line)
        {
            if (line.StartsWith(AdoptionHelper.FactsPrefix, StringComparison.Ordinal))
            {
                facts = line[AdoptionHelper.FactsPrefix.Length..];
            }
            else if (line == AdoptionHelper.Started)
            {
                break;
            }
            else
            {
                Assert.Fail($"helper: {line} {await helper.StandardError.ReadToEndAsync(Ct)}");
            }
        }

        Assert.NotNull(facts);
        var parsed = QemuRuntimeFacts.TryParse(facts)!;
        Assert.True(parsed.Started);
        helper.Kill(); // SIGKILL
        await helper.WaitForExitAsync(Ct);

        // QEMU outlived its parent, is no longer its child (re-parented), and keeps running the guest.
        await Task.Delay(500, Ct);
        Assert.True(new HostProcess(parsed.Pid, parsed.StartTime).IsAlive, "QEMU died with the service");
        var status = File.ReadAllText($"/proc/{parsed.Pid}/status");
        Assert.DoesNotContain($"PPid:\t{helper.Id}\n", status, StringComparison.Ordinal);

        var (adoption, sink) = await AdoptAsync(NewBackend(), "survivor", Document("idle"), facts);
        Assert.Equal(SystemState.Running, adoption.State);
        await WaitForConsoleAsync(RuntimeDirectory("survivor"), "hcs-guest: idle");
        var properties = await adoption.System!.GetPropertiesAsync(new HashSet<SystemPropertyType> { SystemPropertyType.Statistics }, Ct);
        Assert.True(properties.Processor!.TotalRuntime100ns > 0);

        await adoption.System.TerminateAsync(Ct);
        Assert.False(new HostProcess(parsed.Pid, parsed.StartTime).IsAlive);
        await adoption.System.DisposeAsync();
        _systems.Remove(adoption.System);
        Assert.Empty(QemusOf(_run.FullName));
        Assert.False(Directory.Exists(RuntimeDirectory("survivor")));
        Assert.DoesNotContain(sink.Events, e => e.StartsWith("Stopped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Adopted_QemuKilledBehindTheBacksOfBoth_IsReportedAsWorkerDiedFromTheQmpEof()
    {
        var document = Document("idle");
        var (first, created) = await CreateAsync(NewBackend(), "eof", document);
        await first.StartAsync(Ct);
        await first.DetachAsync();
        var facts = created.ParsedFacts;
        var (adoption, sink) = await AdoptAsync(NewBackend(), "eof", document, created.Facts);
        Assert.Equal(SystemState.Running, adoption.State);

        Process.GetProcessById(facts.Pid).Kill();
        var exit = await sink.Stopped.WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Equal(BackendExitCause.WorkerDied, exit.Cause);
        Assert.Null(exit.WorkerExitCode);
        Assert.False(new HostProcess(facts.Pid, facts.StartTime).IsAlive);
    }
}
