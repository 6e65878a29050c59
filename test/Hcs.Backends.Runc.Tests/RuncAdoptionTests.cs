// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Linux.Cgroups;
using Hcs.Schema;
using Hcs.Shim.Protocol;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// A restarted service re-adopting containers (real runc): one <see cref="RuncBackend"/> creates and starts, detaches
/// (or its process is killed), and a new one adopts from the runtime facts the first reported, as hcsd does.
/// </summary>
public sealed class RuncAdoptionTests : IAsyncDisposable
{
    public const string CgroupParent = "hcs-test";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);
    private readonly List<IBackendSystem> _systems = [];

    private RuncSettings Settings => new() { RuntimeRoot = _root, CgroupParent = CgroupParent };

    private RuncBackend NewBackend() => new(Settings);

    private static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static CancellationToken Bound => new CancellationTokenSource(s_timeout).Token;

    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(s_timeout);

    private static Task Within(Task task) => task.WaitAsync(s_timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.DisposeAsync();
        }

        // A failed test may leave containers: the orphan sweep of this test's own runtime root removes them, running or not.
        await NewBackend().CleanOrphansAsync(new HashSet<string>(), killRunning: true, CancellationToken.None);
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task<IBackendSystem> CreateAsync(RuncBackend backend, string id, RecordingSink sink, ComputeSystem? document = null)
    {
        Requires.Containers();
        var system = await Within(backend.CreateAsync(new BackendSystemContext(id, document ?? RuncBackendFixture.Document(), sink, TimeProvider.System), Bound));
        _systems.Add(system);
        return system;
    }

    private async Task<IBackendSystem> StartedAsync(RuncBackend backend, string id, RecordingSink sink, ComputeSystem? document = null)
    {
        var system = await CreateAsync(backend, id, sink, document);
        await Within(system.StartAsync(Bound));
        return system;
    }

    private async Task<BackendAdoption> AdoptAsync(string id, RecordingSink sink, string facts, ComputeSystem? document = null)
    {
        var adoption = await Within(NewBackend().AdoptAsync(new BackendAdoptContext(id, document ?? RuncBackendFixture.Document(), sink, TimeProvider.System, facts), Bound));
        if (adoption.System is { } system)
        {
            _systems.Add(system);
        }

        return adoption;
    }

    /// <summary>Runs <c>sh -c script</c>; returns its stdout and exit code.</summary>
    private static async Task<(string Out, int Code)> ShAsync(IBackendSystem system, string script)
    {
        var exit = new ProcessSink();
        await using var process = await Within(((IBackendProcessHost)system).CreateProcessAsync(
            new ProcessParameters { CommandArgs = ["sh", "-c", script], CreateStdOutPipe = true }, exit, Bound));
        var output = await Within(new StreamReader(process.Stdio.StdOut!).ReadToEndAsync());
        return (output, await Within(exit.Exited));
    }

    private static HostProcess Monitor(JsonElement facts)
    {
        var monitor = facts.GetProperty("monitor");
        return new HostProcess(monitor.GetProperty("pid").GetInt32(), monitor.GetProperty("startTime").GetUInt64());
    }

    private static async Task<string?> RuncStateAsync(RuncBackend backend, string name) => await backend.RuncStatusAsync(name, CancellationToken.None);

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < s_timeout, what);
            await Task.Delay(20);
        }
    }

    /// <summary>Nothing of container <paramref name="name"/> is left: runtime directory, runc state, mounts, cgroups, monitor, init.</summary>
    private void AssertReleased(string name, HostProcess? monitor, HostProcess? init = null)
    {
        var directory = Path.Combine(_root, name);
        Assert.False(Directory.Exists(directory), "the runtime directory is removed");
        Assert.False(Directory.Exists(Path.Combine(_root, ".runc", name)), "runc's state is deleted");
        Assert.Empty(MountTable.Under(directory));
        Assert.All(CgroupHierarchy.Host.Cgroup($"/{CgroupParent}/{name}").Directories, d => Assert.False(Directory.Exists(d), $"the cgroup {d} is removed"));
        if (monitor is { } m)
        {
            Assert.False(m.IsAlive, "the monitor is gone");
        }

        if (init is { } i)
        {
            Assert.False(i.IsAlive, "the init is gone");
        }
    }

    [Fact]
    public async Task RuntimeFacts_AfterCreateNameTheBundle_AfterStartTheMonitorAndInit()
    {
        var sink = new RecordingSink();
        var id = NewId("facts");
        var system = await CreateAsync(NewBackend(), id, sink);
        var created = sink.FactsJson;
        Assert.Equal(1, created.GetProperty("version").GetInt32());
        Assert.Equal(Path.Combine(_root, id), created.GetProperty("runtimeDirectory").GetString());
        Assert.Equal(id, created.GetProperty("containerId").GetString());
        Assert.Equal(Path.Combine(_root, ".runc"), created.GetProperty("runcRoot").GetString());
        Assert.Equal(Path.Combine(_root, id, "rootfs"), created.GetProperty("rootfs").GetString());
        Assert.Equal(Path.Combine(_root, id, "scratch"), created.GetProperty("scratch").GetString());
        Assert.Equal($"/{CgroupParent}/{id}", created.GetProperty("cgroupsPath").GetString());
        Assert.False(created.GetProperty("started").GetBoolean());
        Assert.Equal(JsonValueKind.Null, created.GetProperty("monitor").ValueKind);
        Assert.Equal(JsonValueKind.Null, created.GetProperty("initPid").ValueKind);

        await Within(system.StartAsync(Bound));
        var started = sink.FactsJson;
        Assert.True(started.GetProperty("started").GetBoolean());
        Assert.True(Monitor(started).IsAlive, "the monitor named by the facts runs");
        Assert.Equal(Path.Combine(_root, id, "shim.sock"), started.GetProperty("monitor").GetProperty("socket").GetString());
        using var silo = JsonDocument.Parse(sink.Silo!);
        Assert.Equal(silo.RootElement.GetProperty("InitProcessId").GetInt32(), started.GetProperty("initPid").GetInt32());
        // The monitor was recorded before runc start too, so a service killed during Start finds it.
        Assert.Contains(sink.AllFacts, f => f.Contains("\"started\":false", StringComparison.Ordinal) && f.Contains("\"socket\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Adopt_OfADetachedRunningContainer_IsRunning_ExecModifyAndShutDownWork_AndTheOldInstanceReportsNothing()
    {
        var id = NewId("run");
        var shared = Directory.CreateDirectory(Path.Combine("/tmp", "hcs-adopt-" + id)).FullName;
        File.WriteAllText(Path.Combine(shared, "hello"), "mapped");
        try
        {
            var oldSink = new RecordingSink();
            var old = await StartedAsync(NewBackend(), id, oldSink);
            await Within(old.ModifyAsync(new ModifySettingRequest
            {
                ResourcePath = "Container/MappedDirectories",
                RequestType = ModifyRequestType.Add,
                Settings = JsonSerializer.SerializeToElement(new { HostPath = shared, ContainerPath = "/data", ReadOnly = true }),
            }, Bound));
            Assert.NotEmpty(oldSink.FactsJson.GetProperty("runtimeMounts").EnumerateArray());
            await old.DetachAsync();
            await old.DisposeAsync(); // after Detach, releases nothing
            var eventsAtDetach = oldSink.Events;
            var facts = oldSink.Facts!;
            var monitor = Monitor(oldSink.FactsJson);
            Assert.True(monitor.IsAlive, "the monitor outlives the detached instance");

            var sink = new RecordingSink();
            var adoption = await AdoptAsync(id, sink, facts);
            Assert.Equal(SystemState.Running, adoption.State);
            Assert.Null(adoption.Exit);
            var system = adoption.System!;
            Assert.Equal(("hi\n", 3), await ShAsync(system, "echo hi; exit 3"));
            Assert.Equal("mapped", (await ShAsync(system, "cat /data/hello")).Out);
            var properties = await Within(system.GetPropertiesAsync(new HashSet<SystemPropertyType> { SystemPropertyType.Statistics, SystemPropertyType.ProcessList }, Bound));
            Assert.Contains(properties.ProcessList!, p => p.ProcessId == 1);
            Assert.True(properties.MemoryStats!.MemoryUsageCommitBytes > 0);
            await Within(system.ModifyAsync(new ModifySettingRequest
            {
                ResourcePath = "Container/Memory/SizeInMB",
                RequestType = ModifyRequestType.Update,
                Settings = JsonSerializer.SerializeToElement(96),
            }, Bound));
            Assert.Equal(96UL << 20, CgroupHierarchy.Host.Cgroup($"/{CgroupParent}/{id}").ReadMemoryLimit());

            await Within(system.RequestShutdownAsync(null, Bound));
            var exit = await Within(sink.Stopped);
            Assert.Equal(BackendExitCause.GuestPowerOff, exit.Cause);
            await system.DisposeAsync();
            AssertReleased(id, monitor);
            Assert.Equal(eventsAtDetach, oldSink.Events); // the detached instance saw none of it
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task Adopt_OfAPausedContainer_IsPaused_ThenResumeAndTerminateWork()
    {
        var id = NewId("paused");
        var oldSink = new RecordingSink();
        var old = await StartedAsync(NewBackend(), id, oldSink);
        await Within(old.PauseAsync(null, Bound));
        await old.DetachAsync();

        var sink = new RecordingSink();
        var adoption = await AdoptAsync(id, sink, oldSink.Facts!);
        Assert.Equal(SystemState.Paused, adoption.State);
        var system = adoption.System!;
        Assert.Equal("paused", await RuncStateAsync(NewBackend(), id));
        await Within(system.ResumeAsync(Bound));
        Assert.Equal("running", await RuncStateAsync(NewBackend(), id));
        await Within(system.PauseAsync(null, Bound));
        await Within(system.TerminateAsync(Bound)); // thaws, so the SIGKILL lands
        await system.DisposeAsync();
        AssertReleased(id, Monitor(oldSink.FactsJson));
    }

    [Theory]
    [InlineData("KILL", BackendExitCause.WorkerDied, 137u)]
    [InlineData("TERM", BackendExitCause.GuestPowerOff, 0u)]
    public async Task Adopt_AfterTheInitEndedWhileDown_ReportsTheRecordedExit_AndReleasesEverything(string signal, BackendExitCause cause, uint code)
    {
        var id = NewId("ended");
        var (oldSink, monitor, init) = await DetachedAsync(id);
        Assert.Equal(0, (await HostCommand.RunAsync("/bin/kill", ["-" + signal, init.Pid.ToString(CultureInfo.InvariantCulture)], default)).ExitCode);
        await EventuallyAsync(() => !monitor.IsAlive, "the monitor ends after its init");

        var sink = new RecordingSink();
        var adoption = await AdoptAsync(id, sink, oldSink.Facts!);
        Assert.Null(adoption.System);
        Assert.Equal(cause, adoption.Exit!.Cause);
        Assert.Equal(code, adoption.Exit.WorkerExitCode);
        Assert.Contains("while the service was down", adoption.Exit.Detail, StringComparison.Ordinal);
        AssertReleased(id, monitor, init);
        Assert.Empty(sink.Events);
        Assert.Empty(sink.AllFacts);
    }

    [Fact]
    public async Task Adopt_AfterTheMonitorDiedWhileDown_KillsTheContainer_AndReportsAWorkerDeath()
    {
        var id = NewId("orphaned");
        var (oldSink, monitor, init) = await DetachedAsync(id);
        monitor.Kill();
        await EventuallyAsync(() => !monitor.IsAlive, "the monitor is killed");
        Assert.True(init.IsAlive, "the init outlives its monitor");

        var adoption = await AdoptAsync(id, new RecordingSink(), oldSink.Facts!);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.WorkerDied, adoption.Exit!.Cause);
        Assert.Contains("monitor", adoption.Exit.Detail, StringComparison.Ordinal);
        await EventuallyAsync(() => !init.IsAlive, "the container is killed");
        AssertReleased(id, monitor, init);
    }

    [Fact]
    public async Task Adopt_WhenTheMonitorSpeaksAnotherProtocolVersion_KillsTheContainerLikeAnUnreachableMonitor_NamingBothVersions()
    {
        var id = NewId("oldshim");
        var (oldSink, monitor, init) = await DetachedAsync(id);

        // The real monitor lives on (same pid and start time), but its socket answers hello as a monitor of version 0 does.
        var path = Path.Combine(_root, id, ShimProtocol.SocketName);
        File.Move(path, path + ".real");
        using var standIn = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        standIn.Bind(new UnixDomainSocketEndPoint(path));
        standIn.Listen(1);
        var answering = Task.Run(async () =>
        {
            using var connection = await standIn.AcceptAsync();
            using var reader = new StreamReader(new NetworkStream(connection));
            var hello = await reader.ReadLineAsync();
            await connection.SendAsync("{\"id\":1,\"error\":\"unknown op 'hello'\",\"code\":\"bad-request\"}\n"u8.ToArray(), SocketFlags.None);
            return hello;
        });

        var adoption = await AdoptAsync(id, new RecordingSink(), oldSink.Facts!);
        Assert.Contains("\"op\":\"hello\"", await Within(answering), StringComparison.Ordinal);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.WorkerDied, adoption.Exit!.Cause);
        Assert.Contains($"version {ShimProtocol.PreHelloVersion}", adoption.Exit.Detail, StringComparison.Ordinal);
        Assert.Contains($"version {ShimProtocol.ProtocolVersion}", adoption.Exit.Detail, StringComparison.Ordinal);
        Assert.Contains("the container was killed", adoption.Exit.Detail, StringComparison.Ordinal);
        await EventuallyAsync(() => !init.IsAlive, "the container is killed");
        AssertReleased(id, monitor, init);
    }

    [Fact]
    public async Task Start_WithAMonitorOfAnotherProtocolVersion_FailsWithUnsupportedProtocolVersion_NamingBothAndTheShim()
    {
        // A stand-in hcs-shim of another build: it says ready, then answers the engine's hello as a version-9 monitor.
        var shim = Path.Combine(Directory.CreateDirectory(_root).FullName, "hcs-shim-v9");
        await File.WriteAllTextAsync(shim, """
            #!/usr/bin/env python3
            import json, os, socket, sys
            state = sys.argv[sys.argv.index("--state") + 1]
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(os.path.join(state, "shim.sock"))
            listener.listen(1)
            print(json.dumps({"ready": True, "initPid": os.getpid()}), flush=True)
            connection, _ = listener.accept()
            hello = json.loads(connection.makefile().readline())
            connection.sendall((json.dumps({"id": hello["id"], "error": "no", "code": "version-mismatch", "version": 9}) + "\n").encode())
            connection.recv(1)
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var id = NewId("v9");
        var system = await CreateAsync(new RuncBackend(Settings with { ShimPath = shim }), id, new RecordingSink());

        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.StartAsync(Bound)));
        Assert.Equal(HResults.HCS_E_UNSUPPORTED_PROTOCOL_VERSION, e.HResult);
        var detail = Assert.Single(e.Result.ErrorEvents!).Message!;
        Assert.Contains("version 9", detail, StringComparison.Ordinal);
        Assert.Contains($"version {ShimProtocol.ProtocolVersion}", detail, StringComparison.Ordinal);
        Assert.Contains(shim, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Adopt_OfACreatedContainer_IsCreated_AndStartsAndRuns()
    {
        var id = NewId("created");
        var oldSink = new RecordingSink();
        var old = await CreateAsync(NewBackend(), id, oldSink);
        await old.DetachAsync();

        var sink = new RecordingSink();
        var adoption = await AdoptAsync(id, sink, oldSink.Facts!);
        Assert.Equal(SystemState.Created, adoption.State);
        var system = adoption.System!;
        await Within(system.StartAsync(Bound));
        Assert.Equal(("up\n", 0), await ShAsync(system, "echo up"));
        await Within(system.TerminateAsync(Bound));
        var monitor = Monitor(sink.FactsJson);
        await system.DisposeAsync();
        AssertReleased(id, monitor);
    }

    [Fact]
    public async Task Adopt_OfAStartCutShortAfterRuncCreate_RollsBackToCreated_AndStartsAgain()
    {
        var id = NewId("half");
        var backend = NewBackend();
        var oldSink = new RecordingSink();
        var old = await CreateAsync(backend, id, oldSink);
        await old.DetachAsync();
        var directory = Path.Combine(_root, id);

        // What Start does up to runc create, by hand: a monitor whose container runc has created but never started.
        var start = new ProcessStartInfo(backend.ShimPath) { RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var argument in (string[])["monitor", "--id", id, "--bundle", directory, "--runc", backend.Settings.RuncPath, "--runc-root", backend.RuncRoot, "--state", directory])
        {
            start.ArgumentList.Add(argument);
        }

        using var half = Process.Start(start)!;
        Assert.Contains("\"ready\":true", await Within(half.StandardOutput.ReadLineAsync()), StringComparison.Ordinal);
        Assert.Equal("created", await RuncStateAsync(backend, id));

        var adoption = await AdoptAsync(id, new RecordingSink(), oldSink.Facts!);
        Assert.Equal(SystemState.Created, adoption.State);
        Assert.Null(await RuncStateAsync(backend, id));
        await Within(half.WaitForExitAsync());
        var system = adoption.System!;
        await Within(system.StartAsync(Bound));
        Assert.Equal(("again\n", 0), await ShAsync(system, "echo again"));
        await Within(system.TerminateAsync(Bound));
        await system.DisposeAsync();
        AssertReleased(id, monitor: null);
    }

    [Fact]
    public async Task Adopt_WithFactsOfAnotherRuntimeRoot_IsRefusedAndTouchesNothing()
    {
        var facts = new RuncRuntimeFacts(1, "/tmp/elsewhere/x", "x", "/tmp/elsewhere/.runc", "/tmp/elsewhere/x/rootfs", "/tmp/elsewhere/x/scratch",
            $"/{CgroupParent}/x", true, new RuncMonitorFacts(1, 1, "/tmp/elsewhere/x/shim.sock"), 1, []).ToJson();
        var e = await Assert.ThrowsAsync<HcsException>(() => AdoptAsync("x", new RecordingSink(), facts));
        Assert.Equal(HResults.E_INVALIDARG, e.HResult);
        var garbage = await Assert.ThrowsAsync<HcsException>(() => AdoptAsync("x", new RecordingSink(), "{\"pid\":3}"));
        Assert.Equal(HResults.E_INVALIDARG, garbage.HResult);
    }

    [Fact]
    public async Task Adopt_WithNoFacts_RemovesWhatAnUnfinishedCreateLeft()
    {
        var id = NewId("nofacts");
        var scratch = Path.Combine("/tmp", "hcs-adopt-scratch-" + id);
        var document = RuncBackendFixture.Document(c => c with { Storage = c.Storage! with { Path = scratch } });
        var old = await CreateAsync(NewBackend(), id, new RecordingSink(), document);
        await old.DetachAsync();
        Assert.True(Directory.Exists(scratch));

        var adoption = await AdoptAsync(id, new RecordingSink(), "", document);
        Assert.Null(adoption.System);
        Assert.Equal(BackendExitCause.WorkerDied, adoption.Exit!.Cause);
        Assert.False(Directory.Exists(scratch), "the scratch Create made is removed");
        AssertReleased(id, monitor: null);
    }

    [Fact]
    public async Task CleanOrphans_LeavesARunningContainerWithNoRecordRunning_RemovesOneWithNothingAlive_AndLeavesKnownOnes()
    {
        var known = NewId("known");
        var orphan = NewId("orphan");
        var knownSink = new RecordingSink();
        var orphanSink = new RecordingSink();
        var kept = await StartedAsync(NewBackend(), known, knownSink);
        var lost = await StartedAsync(NewBackend(), orphan, orphanSink);
        var never = await CreateAsync(NewBackend(), NewId("unstarted"), new RecordingSink());
        await kept.DetachAsync();
        await lost.DetachAsync();
        await never.DetachAsync();
        var orphanMonitor = Monitor(orphanSink.FactsJson);
        var orphanInit = HostProcess.Of(orphanSink.FactsJson.GetProperty("initPid").GetInt32())!.Value;

        var lines = await Within(NewBackend().CleanOrphansAsync(new HashSet<string> { known }, Bound));
        Assert.Equal(2, lines.Count);
        var left = Assert.Single(lines, l => l.StartsWith(OrphanLines.LeftRunning, StringComparison.Ordinal));
        Assert.Contains(orphan, left, StringComparison.Ordinal);
        Assert.Contains("is running with no record", left, StringComparison.Ordinal);
        Assert.True(orphanInit.IsAlive && orphanMonitor.IsAlive, "a running container is never killed for lack of a record");
        Assert.Equal("running", await RuncStateAsync(NewBackend(), orphan));
        Assert.Contains(lines, l => l.Contains("unstarted", StringComparison.Ordinal) && l.Contains("killed and removed", StringComparison.Ordinal));
        Assert.Equal(2, Directory.GetDirectories(_root).Count(d => Path.GetFileName(d) != ".runc"));

        // Asked explicitly, the sweep ends it too.
        var killed = await Within(NewBackend().CleanOrphansAsync(new HashSet<string> { known }, killRunning: true, Bound));
        Assert.Contains(orphan, Assert.Single(killed), StringComparison.Ordinal);
        AssertReleased(orphan, orphanMonitor, orphanInit);
        Assert.Single(Directory.GetDirectories(_root), d => Path.GetFileName(d) != ".runc");

        Assert.True(Monitor(knownSink.FactsJson).IsAlive, "the known container's monitor is left alone");
        var adoption = await AdoptAsync(known, new RecordingSink(), knownSink.Facts!);
        Assert.Equal(SystemState.Running, adoption.State);
        await Within(adoption.System!.TerminateAsync(Bound));
        await adoption.System.DisposeAsync();
        AssertReleased(known, Monitor(knownSink.FactsJson));
    }

    [Fact]
    public async Task Adopt_AfterTheServiceProcessWasKilled_RunsAProcessAndTerminates_LeavingNothing()
    {
        Requires.Containers();
        var id = NewId("sigkill");
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Hcs.Backends.Runc.Tests"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])[AdoptionHelper.Verb, _root, id])
        {
            start.ArgumentList.Add(argument);
        }

        string? line;
        using (var service = Process.Start(start)!)
        {
            var errors = service.StandardError.ReadToEndAsync();
            try
            {
                line = await service.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            finally
            {
                service.Kill(); // SIGKILL: no Detach, no cleanup, nothing flushed
                await service.WaitForExitAsync();
            }

            Assert.True(line is not null, "the helper reported no facts: " + await errors);
        }

        var facts = JsonDocument.Parse(line!).RootElement;
        var monitor = Monitor(facts);
        var init = HostProcess.Of(facts.GetProperty("initPid").GetInt32())!.Value;
        Assert.True(monitor.IsAlive, "the monitor outlives the killed service");
        Assert.Equal("running", await RuncStateAsync(NewBackend(), id));

        var sink = new RecordingSink();
        var adoption = await AdoptAsync(id, sink, line!);
        Assert.Equal(SystemState.Running, adoption.State);
        var system = adoption.System!;
        var processes = (await Within(system.GetPropertiesAsync(new HashSet<SystemPropertyType> { SystemPropertyType.ProcessList }, Bound))).ProcessList!;
        Assert.Contains(processes, p => p.ImageName == "sleep"); // exec'd by the dead service: still running, stdio gone
        Assert.Equal(("adopted\n", 7), await ShAsync(system, "echo adopted; exit 7"));
        await Within(system.TerminateAsync(Bound));
        await system.DisposeAsync();
        AssertReleased(id, monitor, init);
        Assert.Empty(await Within(NewBackend().CleanOrphansAsync(new HashSet<string>(), Bound)));
    }

    /// <summary>A container started by one backend that then detached from it: its facts, monitor and init.</summary>
    private async Task<(RecordingSink Sink, HostProcess Monitor, HostProcess Init)> DetachedAsync(string id)
    {
        var sink = new RecordingSink();
        var old = await StartedAsync(NewBackend(), id, sink);
        await old.DetachAsync();
        var facts = sink.FactsJson;
        return (sink, Monitor(facts), HostProcess.Of(facts.GetProperty("initPid").GetInt32())!.Value);
    }
}
