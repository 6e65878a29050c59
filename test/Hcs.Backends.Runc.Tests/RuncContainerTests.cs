// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Hcs.Client;
using Hcs.Conformance;
using Hcs.Linux.Cgroups;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Runc.Tests;

/// <summary>Containers on real runc: the lifecycle, the resources a document asks for, and what is left afterwards.</summary>
public sealed class RuncContainerTests : IAsyncLifetime
{
    private readonly RuncBackendFixture _fixture = new();
    private HcsClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _client = _fixture.Connect("container-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _fixture.DisposeAsync();

    private Task<T> Within<T>(Task<T> task) => task.WaitAsync(_fixture.Timeout);

    private Task Within(Task task) => task.WaitAsync(_fixture.Timeout);

    private async Task<ComputeSystem> CreateAsync(SchemaComputeSystem document, string? id = null) =>
        await Within(ComputeSystem.CreateAsync(_client, id ?? _fixture.NewId("c"), HcsJson.Serialize(document)));

    private async Task<ComputeSystem> RunningAsync(Func<Container, Container>? configure = null)
    {
        var system = await CreateAsync(RuncBackendFixture.Document(configure));
        await Within(system.StartAsync());
        return system;
    }

    /// <summary>Runs <c>sh -c script</c> in the container; returns stdout, stderr and the exit code.</summary>
    /// <summary>The container's cgroup on this host (v1 or v2), as runc made it from <c>cgroupsPath</c> <c>/hcs-test/ID</c>.</summary>
    private static Cgroup CgroupOf(ComputeSystem system) => CgroupHierarchy.Host.Cgroup($"/hcs-test/{system.Id}");

    private async Task<(string Out, string Err, uint Code)> ShAsync(ComputeSystem system, string script, ProcessParameters? parameters = null)
    {
        await using var process = await Within(system.CreateProcessAsync((parameters ?? new ProcessParameters()) with
        {
            CommandArgs = ["sh", "-c", script],
            CreateStdOutPipe = true,
            CreateStdErrPipe = true,
        }));
        var stdout = new StreamReader(process.StandardOutput!).ReadToEndAsync();
        var stderr = new StreamReader(process.StandardError!).ReadToEndAsync();
        var status = await Within(process.WaitForExitAsync());
        Assert.Equal(0, status.LastWaitResult);
        return (await stdout, await stderr, status.ExitCode);
    }

    [Fact]
    public async Task RuntimeDirectoryBundleAndProcessSpecs_AreReadableOnlyByTheirOwner()
    {
        var id = _fixture.NewId("private");
        var system = await CreateAsync(RuncBackendFixture.Document(), id);
        await Within(system.StartAsync());
        await ShAsync(system, "true"); // an exec writes its process spec under exec/

        var run = Path.Combine(_fixture.RuntimeRoot, id);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(run));
        var checkedFiles = 0;
        foreach (var entry in new[] { run, Path.Combine(run, "exec") }.SelectMany(Directory.EnumerateFileSystemEntries))
        {
            var info = new FileInfo(entry);
            if (info.Attributes.HasFlag(FileAttributes.Directory))
            {
                if (Path.GetFileName(entry) == "exec")
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(entry));
                }

                continue; // rootfs and the overlay's upper/work belong to the container
            }

            if (Path.GetExtension(entry) == ".sock" || Path.GetFileName(entry) == "init.pid")
            {
                continue; // sockets, and the pid file runc writes itself (a pid, no data): the 0700 directory guards them
            }

            var other = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            Assert.True((File.GetUnixFileMode(entry) & other) == 0, $"{entry} is {File.GetUnixFileMode(entry)}");
            checkedFiles++;
        }

        Assert.True(File.Exists(Path.Combine(run, "config.json")));
        Assert.True(checkedFiles >= 2, $"only {checkedFiles} files checked");
        await Within(system.TerminateAsync());
    }

    /// <summary>Waits, up to the fixture's timeout, for <paramref name="condition"/> (work the engine finishes in the background).</summary>
    private Task Eventually(Func<bool> condition) => EventuallyAsync(() => Task.FromResult(condition()));

    /// <summary>Waits, up to the fixture's timeout, for an asynchronous <paramref name="condition"/>.</summary>
    private async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < _fixture.Timeout, "the condition did not become true in time");
            await Task.Delay(20);
        }
    }

    private static string Listing(string root) => string.Join('\n', Directory
        .EnumerateFileSystemEntries(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
        .Order(StringComparer.Ordinal)
        .Select(p => $"{p} {(File.Exists(p) ? new FileInfo(p).Length : -1)}"));

    [Fact]
    public async Task Start_RaisesSiloJobCreatedWithTheCgroupAndInit_BeforeItCompletes()
    {
        await using var system = await CreateAsync(RuncBackendFixture.Document());
        var recorder = EventRecorder.Start(system, _fixture.Timeout);
        await Within(system.StartAsync());
        var silo = await recorder.WaitForAsync(HcsEventType.SystemSiloJobCreated);
        using var data = JsonDocument.Parse(silo.EventData!);
        var cgroup = data.RootElement.GetProperty("CgroupPath").GetString()!;
        Assert.EndsWith("/" + system.Id, cgroup, StringComparison.Ordinal);
        var initPid = data.RootElement.GetProperty("InitProcessId").GetInt32();
        // runc start returns once the init was released; its execve of /.hcs/init may still be under way.
        await Eventually(() => File.ReadAllText($"/proc/{initPid}/cmdline") == "/.hcs/init\0init\0");
        Assert.Contains(cgroup, File.ReadAllText($"/proc/{initPid}/cgroup"), StringComparison.Ordinal);
        Assert.Equal(SystemState.Running, (await Within(system.GetPropertiesAsync())).State);
    }

    [Fact]
    public async Task ShutDown_EndsTheContainerGracefully_AndLeavesNothingBehind_LayersUntouched()
    {
        var scratch = Path.Combine(_fixture.TempDirectory, "scratch");
        var before = Listing(BusyboxLayer.Path);
        var system = await CreateAsync(RuncBackendFixture.Document(c => c with { Storage = c.Storage! with { Path = scratch } }));
        await Within(system.StartAsync());
        var (_, _, code) = await ShAsync(system, "echo data > /written; mkdir /newdir");
        Assert.Equal(0u, code);
        Assert.True(File.Exists(Path.Combine(scratch, "upper", "written")), "writes land in the scratch's upper directory");

        await Within(system.ShutDownAsync());
        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        var id = system.Id;
        await system.DisposeAsync();

        // The engine releases a stopped system's backend once its last handle is closed, in the background.
        // The scratch goes first, then the runtime directory.
        await Eventually(() => !Directory.Exists(scratch) && !Directory.Exists(Path.Combine(_fixture.RuntimeRoot, id)));
        Assert.Equal(before, Listing(BusyboxLayer.Path));
        Assert.False(Directory.Exists(Path.Combine(_fixture.RuntimeRoot, ".runc", id)), "runc's state is deleted");
        Assert.All(CgroupHierarchy.Host.Cgroup($"/hcs-test/{id}").Directories, d => Assert.False(Directory.Exists(d), $"the cgroup {d} is removed"));
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(_fixture.RuntimeRoot + "/" + id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ShutDown_WaitsForProcessesThatIgnoreSigterm_ThenTimesOut_AndTheContainerKeepsRunning()
    {
        await using var system = await RunningAsync();
        await using var stubborn = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done"],
            CreateStdOutPipe = true,
        }));
        var reader = new StreamReader(stubborn.StandardOutput!);
        Assert.Equal("ready", await Within(reader.ReadLineAsync()));
        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.ShutDownAsync()));
        Assert.Equal(HResults.ERROR_TIMEOUT, e.HResult);
        Assert.Equal(SystemState.Running, (await Within(system.GetPropertiesAsync())).State);
        await Within(system.TerminateAsync());
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Pause_FreezesACounter_AndResumeLetsItContinue()
    {
        await using var system = await RunningAsync();
        await using var counter = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/next; mv /tmp/next /tmp/count; done"],
        }));
        async Task<long> CountAsync() => long.Parse((await ShAsync(system, "cat /tmp/count")).Out.Trim(), CultureInfo.InvariantCulture);
        await Eventually(() => File.Exists(Path.Combine(_fixture.RuntimeRoot, system.Id, "rootfs", "tmp", "count")));
        var running = await CountAsync();
        await EventuallyAsync(async () => await CountAsync() > running); // the counter runs

        await Within(system.PauseAsync());
        Assert.Equal(SystemState.Paused, (await Within(system.GetPropertiesAsync())).State);
        var file = Path.Combine(_fixture.RuntimeRoot, system.Id, "rootfs", "tmp", "count");
        var frozen = File.ReadAllText(file);
        await Task.Delay(500);
        Assert.Equal(frozen, File.ReadAllText(file));

        await Within(system.ResumeAsync());
        await EventuallyAsync(async () => await CountAsync() > long.Parse(frozen.Trim(), CultureInfo.InvariantCulture)); // it continues
    }

    [Fact]
    public async Task Terminate_OfAPausedContainer_EndsIt()
    {
        await using var system = await RunningAsync();
        await Within(system.PauseAsync());
        await Within(system.TerminateAsync());
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Memory_IsLimited_AProcessExceedingItIsOomKilledAndReportedWith137()
    {
        await using var system = await RunningAsync(c => c with { Memory = new ContainerMemory { SizeInMB = 16 } });
        var silo = CgroupHierarchy.Host.Cgroup($"/hcs-test/{system.Id}");
        Assert.Equal(16UL << 20, silo.ReadMemoryLimit());
        // tail keeps the last line, and /dev/zero has no newline: it buffers all 64 MiB.
        var (_, _, code) = await ShAsync(system, "head -c 67108864 /dev/zero | tail -n 1 > /dev/null");
        Assert.NotEqual(0u, code);
        var (_, _, killed) = await ShAsync(system, "exec tail -c 67108864 /dev/zero");
        Assert.Equal(137u, killed);
        Assert.True(silo.ReadOomKills() > 0, "the kernel counts the OOM kill in the container's cgroup");
    }

    [Fact]
    public async Task MappedDirectories_ReadOnlyRefusesWrites_ReadWriteWritesThrough()
    {
        var ro = Directory.CreateDirectory(Path.Combine(_fixture.TempDirectory, "ro")).FullName;
        var rw = Directory.CreateDirectory(Path.Combine(_fixture.TempDirectory, "rw")).FullName;
        File.WriteAllText(Path.Combine(ro, "hello"), "from host");
        await using var system = await RunningAsync(c => c with
        {
            MappedDirectories =
            [
                new MappedDirectory { HostPath = ro, ContainerPath = "/mnt/ro", ReadOnly = true },
                new MappedDirectory { HostPath = rw, ContainerPath = "/mnt/rw" },
            ],
        });
        var (text, _, _) = await ShAsync(system, "cat /mnt/ro/hello");
        Assert.Equal("from host", text);
        var (_, error, code) = await ShAsync(system, "touch /mnt/ro/new");
        Assert.NotEqual(0u, code);
        Assert.Contains("Read-only file system", error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(ro, "new")));
        Assert.Equal(0u, (await ShAsync(system, "echo through > /mnt/rw/new")).Code);
        Assert.Equal("through\n", File.ReadAllText(Path.Combine(rw, "new")));
    }

    [Fact]
    public async Task Modify_AddsAMappedDirectoryToARunningContainer_HonouringReadOnly()
    {
        var shared = Directory.CreateDirectory(Path.Combine(_fixture.TempDirectory, "later")).FullName;
        File.WriteAllText(Path.Combine(shared, "hello"), "late");
        await using var system = await RunningAsync();
        await Within(system.ModifyAsync(new ModifySettingRequest
        {
            ResourcePath = "Container/MappedDirectories",
            RequestType = ModifyRequestType.Add,
            Settings = JsonSerializer.SerializeToElement(new { HostPath = shared, ContainerPath = "/data", ReadOnly = true }),
        }));
        Assert.Equal("late", (await ShAsync(system, "cat /data/hello")).Out);
        var (_, error, code) = await ShAsync(system, "touch /data/x");
        Assert.NotEqual(0u, code);
        Assert.Contains("Read-only file system", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Modify_UpdatesMemoryAndProcessorLimits_OfARunningContainer()
    {
        await using var system = await RunningAsync(c => c with { Memory = new ContainerMemory { SizeInMB = 64 } });
        await Within(system.ModifyAsync(new ModifySettingRequest
        {
            ResourcePath = "Container/Memory/SizeInMB",
            RequestType = ModifyRequestType.Update,
            Settings = JsonSerializer.SerializeToElement(96),
        }));
        Assert.Equal(96UL << 20, CgroupOf(system).ReadMemoryLimit());
        await Within(system.ModifyAsync(new ModifySettingRequest
        {
            ResourcePath = "Container/Processor",
            RequestType = ModifyRequestType.Update,
            Settings = JsonSerializer.SerializeToElement(new { Count = 1 }),
        }));
        Assert.Equal(100_000, CgroupOf(system).ReadCpuLimits()?.QuotaMicroseconds);
        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.ModifyAsync(new ModifySettingRequest
        {
            ResourcePath = "Container/Storage/Path",
            RequestType = ModifyRequestType.Update,
            Settings = JsonSerializer.SerializeToElement("/x"),
        })));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.ResourcePath", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProcessorCountAndWeight_BecomeTheContainersCpuQuotaAndShares()
    {
        await using (var counted = await RunningAsync(c => c with { Processor = new ContainerProcessor { Count = 1 } }))
        {
            Assert.Equal(100_000, CgroupOf(counted).ReadCpuLimits()?.QuotaMicroseconds);
        }

        await using var weighted = await RunningAsync(c => c with { Processor = new ContainerProcessor { Weight = 200 } });
        var limits = CgroupOf(weighted).ReadCpuLimits()!;
        Assert.Null(limits.QuotaMicroseconds); // v1 -1, v2 "max"
        if (CgroupHierarchy.Host.Version == CgroupVersion.V1)
        {
            Assert.Equal(2048UL, limits.Shares);
        }
        else
        {
            // runc converts shares to a weight: linearly (79), or, in newer runtimes, on a curve that keeps 1024 at 100.
            Assert.True(limits.Weight == CgroupCpuLimits.WeightFromShares(2048) || limits.Weight > CgroupCpuLimits.DefaultWeight, $"cpu.weight {limits.Weight}");
        }
    }

    [Fact]
    public async Task ProcessorMaximum_HoldsASpinningProcessToItsShare()
    {
        // 2500 = 25 % of the host: half a CPU on two. A single spinning thread would otherwise take a whole CPU.
        await using var system = await RunningAsync(c => c with { Processor = new ContainerProcessor { Maximum = 2500 } });
        var cgroup = CgroupOf(system);
        ulong Throttled() => cgroup.ReadCpuUsage()?.ThrottledPeriods ?? throw new InvalidOperationException("cpu.stat has no nr_throttled");
        await using var spinner = await Within(system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["sh", "-c", "while true; do :; done"] }));
        var throttledBefore = Throttled();
        var first = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics!.Processor!.TotalRuntime100ns!.Value;
        var clock = Stopwatch.StartNew();
        await Task.Delay(2000);
        var second = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics!.Processor!.TotalRuntime100ns!.Value;
        var cpus = (second - first) / 1e7 / clock.Elapsed.TotalSeconds;
        var expected = 0.25 * Environment.ProcessorCount;

        // The kernel throttled the container (the quota bit), and it used about its share: the upper bound has room
        // for CFS overrun when the machine is overloaded (late period timers) but stays below the whole CPU an
        // unlimited spinner takes; the lower bound only shows the spinner ran.
        Assert.True(Throttled() > throttledBefore, "the CFS quota throttled the spinning container");
        Assert.InRange(cpus, expected * 0.1, Math.Min(expected * 1.6, 0.9));
    }

    [Fact]
    public async Task Statistics_AndProcessList_ComeFromTheContainer()
    {
        await using var system = await RunningAsync();
        await using var sleeper = await Within(system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["sleep", "30"] }));
        // runc exec -d returns once the process runs, possibly before its execve of sleep: until then procfs names it
        // otherwise. So the list is read until the sleeper shows up as sleep (bounded by the fixture's timeout).
        Properties properties = null!;
        await EventuallyAsync(async () =>
        {
            properties = await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics, SystemPropertyType.ProcessList]));
            return properties.ProcessList!.Any(p => p.ImageName == "sleep" && p.ProcessId == sleeper.ProcessId);
        });
        Assert.True(properties.Statistics!.Memory!.MemoryUsageCommitBytes > 0);
        Assert.Contains(properties.ProcessList!, p => p.ImageName == "sleep" && p.ProcessId == sleeper.ProcessId);
        Assert.Contains(properties.ProcessList!, p => p.ProcessId == 1);
    }

    [Fact]
    public async Task HostName_UserWorkingDirectoryAndEnvironment_AreHonoured()
    {
        await using var system = await RunningAsync(c => c with { GuestOs = new GuestOs { HostName = "box1" } });
        var (output, _, code) = await ShAsync(system, "hostname; id -u; id -g; pwd; echo $GREETING", new ProcessParameters
        {
            User = "tester",
            WorkingDirectory = "/tmp",
            Environment = new Dictionary<string, string> { ["GREETING"] = "hi there" },
        });
        Assert.Equal(0u, code);
        Assert.Equal("box1\n1000\n1000\n/tmp\nhi there\n", output);
    }

    [Fact]
    public async Task Networking_WithoutANamespace_IsAnEmptyNetworkNamespace()
    {
        await using var system = await RunningAsync();
        var (devices, _, _) = await ShAsync(system, "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '");
        Assert.Equal("lo\n", devices);
    }

    [Fact]
    public async Task Networking_WithANamedNamespace_JoinsIt()
    {
        var name = "hcs-test-" + Guid.NewGuid().ToString("N")[..8];
        Assert.Equal(0, (await HostCommand.RunAsync("/usr/sbin/ip", ["netns", "add", name], default)).ExitCode);
        try
        {
            await using var system = await RunningAsync(c => c with { Networking = new Networking { Namespace = name } });
            var (link, _, _) = await ShAsync(system, "readlink /proc/self/ns/net");
            var expected = (await HostCommand.RunAsync("/usr/bin/stat", ["-L", "-c", "%i", $"/var/run/netns/{name}"], default)).StandardOutput.Trim();
            Assert.Equal($"net:[{expected}]", link.Trim());
        }
        finally
        {
            await HostCommand.RunAsync("/usr/sbin/ip", ["netns", "delete", name], default);
        }
    }

    [Fact]
    public async Task Networking_WithAMissingNamespace_FailsAtCreateNamingTheMember()
    {
        var e = await Assert.ThrowsAsync<HcsException>(() => CreateAsync(RuncBackendFixture.Document(c => c with { Networking = new Networking { Namespace = "hcs-no-such-netns" } })));
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, e.HResult);
        Assert.Contains("$.Container.Networking.Namespace", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SiloJobCreated_IsDeliveredBeforeTheStartOperationCompletes()
    {
        using var scope = HcsClient.Use(_client);
        using var op = ComputeCore.HcsCreateOperation(null, null);
        Assert.Equal(0, ComputeCore.HcsCreateComputeSystem(_fixture.NewId("silo"), HcsJson.Serialize(RuncBackendFixture.Document()), op, null, out var system));
        Assert.Equal(0, ComputeCore.HcsWaitForOperationResult(op, 30_000, out _));
        var events = new List<HcsEventType>();
        using var started = new ManualResetEventSlim();
        Assert.Equal(0, ComputeCore.HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, (e, _) =>
        {
            lock (events)
            {
                events.Add(e.Type);
            }

            if (e.Type == HcsEventType.OperationCallback)
            {
                started.Set();
            }
        }));
        using var start = ComputeCore.HcsCreateOperation(null, null);
        Assert.Equal(0, ComputeCore.HcsStartComputeSystem(system, start, null));
        Assert.True(started.Wait(_fixture.Timeout));
        Assert.Equal(0, ComputeCore.HcsGetOperationResult(start, out _));
        lock (events)
        {
            Assert.Equal([HcsEventType.SystemSiloJobCreated, HcsEventType.OperationCallback], events);
        }

        ComputeCore.HcsCloseComputeSystem(system);
    }

    [Fact]
    public async Task Console_HasTheRequestedSize_AndFollowsResize()
    {
        await using var system = await RunningAsync();
        await using var console = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", "stty size; read line; stty size"],
            EmulateConsole = true,
            CreateStdInPipe = true,
            CreateStdOutPipe = true,
            ConsoleSize = [30, 100],
        }));
        var output = new StreamReader(console.StandardOutput!);
        Assert.Equal("30 100", (await Within(output.ReadLineAsync()))!.Trim());
        await Within(console.ResizeConsoleAsync(40, 120));
        await console.StandardInput!.WriteAsync("go\n"u8.ToArray());
        await console.StandardInput.FlushAsync();
        var rest = await Within(output.ReadToEndAsync());
        Assert.Contains("40 120", rest, StringComparison.Ordinal);
        Assert.Equal(0u, (await Within(console.WaitForExitAsync())).ExitCode);
    }

    [Fact]
    public async Task LargeOutput_IsDeliveredWhole_BeforeTheExitCode()
    {
        await using var system = await RunningAsync();
        await using var process = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandLine = "sh -c 'yes | head -c 67108864; exit 3'",
            CreateStdOutPipe = true,
        }));
        var exited = process.WaitForExitAsync();
        long total = 0;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await process.StandardOutput!.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        Assert.Equal(64L << 20, total);
        Assert.Equal(3u, (await Within(exited)).ExitCode);
    }

    [Fact]
    public async Task ProcessExited_ComesAfterTheOutputIsComplete_SoAReaderThatWaitsForItLosesNothing()
    {
        await using var system = await RunningAsync();
        await using var process = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; echo tail >&2; exit 4"],
            CreateStdOutPipe = true,
            CreateStdErrPipe = true,
        }));
        Assert.Equal(4u, (await Within(process.WaitForExitAsync())).ExitCode);
        var output = await Within(new StreamReader(process.StandardOutput!).ReadToEndAsync());
        Assert.Equal(300_000, output.Length);
        Assert.All(output, c => Assert.Equal('x', c));
        Assert.Equal("tail\n", await Within(new StreamReader(process.StandardError!).ReadToEndAsync()));
    }

    [Fact]
    public async Task CreateProcess_OfAMissingProgram_FailsWithFileNotFound()
    {
        await using var system = await RunningAsync();
        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.CreateProcessAsync(new ProcessParameters { CommandLine = "/no/such/program" })));
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, e.HResult);
        Assert.Contains("runc exec", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KilledMonitor_IsAnUnexpectedExit_AndTheContainerIsKilled()
    {
        await using var system = await RunningAsync();
        await using var sleeper = await Within(system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["sleep", "30"] }));
        _fixture.KillWorker(system.Id);
        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        var status = await Within(sleeper.WaitForExitAsync());
        Assert.NotEqual(0, status.LastWaitResult);
        // Nothing reaps the killed init quickly any more (its parent, the monitor, is gone): runc delete waits for it.
        await Eventually(() => !Directory.Exists(Path.Combine(_fixture.RuntimeRoot, ".runc", system.Id)));
    }

    [Fact]
    public async Task ExitStatuses_AreRecordedOnDiskByTheMonitor()
    {
        await using var system = await RunningAsync();
        await using var process = await Within(system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["sh", "-c", "exit 42"] }));
        Assert.Equal(42u, (await Within(process.WaitForExitAsync())).ExitCode);
        var records = Directory.GetFiles(Path.Combine(_fixture.RuntimeRoot, system.Id, "exit"), "*.json");
        Assert.Contains(records, r => JsonDocument.Parse(File.ReadAllText(r)).RootElement.GetProperty("status").GetInt32() == 42);
    }

    [Fact]
    public async Task Create_WithANonEmptyScratch_FailsAndLeavesItAlone()
    {
        var scratch = Directory.CreateDirectory(Path.Combine(_fixture.TempDirectory, "used")).FullName;
        File.WriteAllText(Path.Combine(scratch, "keep"), "mine");
        var e = await Assert.ThrowsAsync<HcsException>(() => CreateAsync(RuncBackendFixture.Document(c => c with { Storage = c.Storage! with { Path = scratch } })));
        Assert.Equal(HResults.ERROR_ALREADY_EXISTS, e.HResult);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(scratch, "keep")));
    }

    [Fact]
    public async Task Layers_AreStackedParentFirst_TheLastWins()
    {
        var upper = BusyboxLayer.NewLayer(_fixture.TempDirectory, new Dictionary<string, string> { ["etc/motd"] = "upper" });
        var middle = BusyboxLayer.NewLayer(_fixture.TempDirectory, new Dictionary<string, string> { ["etc/motd"] = "middle", ["etc/only-middle"] = "m" });
        await using var system = await CreateAsync(RuncBackendFixture.Document(c => c with
        {
            Storage = c.Storage! with { Layers = [new Layer { Path = BusyboxLayer.Path }, new Layer { Path = middle }, new Layer { Path = upper }] },
        }));
        await Within(system.StartAsync());
        Assert.Equal("upper m", (await ShAsync(system, "echo $(cat /etc/motd) $(cat /etc/only-middle)")).Out.Trim());
    }

    [Fact]
    public async Task SaveAndCrash_AreNotSupportedForContainers()
    {
        await using var system = await RunningAsync();
        var crash = await Assert.ThrowsAsync<HcsException>(() => Within(system.CrashAsync()));
        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, crash.HResult);
        await Within(system.PauseAsync());
        var save = await Assert.ThrowsAsync<HcsException>(() => Within(system.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = "/tmp/x" })));
        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, save.HResult);
    }

    [Fact]
    public async Task Stdin_IsForwardedAndEofEndsTheProcess()
    {
        await using var system = await RunningAsync();
        await using var cat = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["cat"],
            CreateStdInPipe = true,
            CreateStdOutPipe = true,
        }));
        var output = new StreamReader(cat.StandardOutput!).ReadToEndAsync();
        await cat.StandardInput!.WriteAsync(Encoding.UTF8.GetBytes("line one\nline two\n"));
        await cat.CloseStandardInputAsync();
        Assert.Equal("line one\nline two\n", await Within(output));
        Assert.Equal(0u, (await Within(cat.WaitForExitAsync())).ExitCode);
    }
}
