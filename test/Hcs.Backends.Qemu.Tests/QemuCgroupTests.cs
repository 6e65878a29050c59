// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Processor Limit and Weight on real QEMU VMs in real cgroups of this host (each test under a parent of its own):
/// QEMU and all its threads are in the VM's cgroup before the guest runs, the files hold the mapped values, the kernel
/// holds a spinning guest to its limit, Modify changes the values (creating the cgroup if the VM had none), and the
/// cgroup and its parent are gone once the VM is. One VM boots in this class (under its 25% limit).
/// </summary>
public sealed class QemuCgroupTests : IAsyncLifetime
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-cgroup-");
    private readonly string _parent = $"hcs-test-{Guid.NewGuid():N}"[..21];
    private readonly CgroupHierarchy _cpu = CgroupHierarchy.DiscoverCpu("/proc/self/mountinfo")
        ?? throw new InvalidOperationException("this host has no cgroup hierarchy with the cpu controller");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string ParentDirectory => Path.Combine(_cpu.MountPoint, _parent);

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([new QemuBackend(new QemuSettings { CgroupParent = _parent }, _run.FullName)]);
        _client = HcsClient.Connect(_engine, "qemu-cgroup-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
        _run.Delete(recursive: true);
        if (Directory.Exists(ParentDirectory))
        {
            // A failed test must not leave cgroups on the host (rmdir only: a cgroup still holding a process stays).
            foreach (var leaf in Directory.GetDirectories(ParentDirectory))
            {
                Directory.Delete(leaf);
            }

            Directory.Delete(ParentDirectory);
        }
    }

    private static SchemaComputeSystem Document(string verb, VirtualMachineProcessor processor) =>
        TestGuest.Document(verb, processor: processor, owner: "qemu-cgroup-tests");

    private static ModifySettingRequest Limits(ProcessorLimits limits, ModifyRequestType? type = null) => new()
    {
        ResourcePath = "VirtualMachine/ComputeTopology/Processor/Limits",
        RequestType = type,
        Settings = HcsJson.SerializeToElement(limits),
    };

    private string CgroupOf(string id) => Path.Combine(ParentDirectory, id);

    private string Read(string id, string file) => File.ReadAllText(Path.Combine(CgroupOf(id), file)).Trim();

    private int[] PidsIn(string id) =>
        [.. File.ReadAllLines(Path.Combine(CgroupOf(id), "cgroup.procs")).Select(l => int.Parse(l, CultureInfo.InvariantCulture))];

    private long Throttled(string id) => long.Parse(
        File.ReadAllLines(Path.Combine(CgroupOf(id), "cpu.stat")).Single(l => l.StartsWith("nr_throttled ", StringComparison.Ordinal))[13..],
        CultureInfo.InvariantCulture);

    /// <summary>True if a <c>/proc/PID[/task/TID]/cgroup</c> text puts the task in <paramref name="path"/> of the cpu hierarchy.</summary>
    private bool InCpuCgroup(string procCgroup, string path) => procCgroup.Split('\n').Select(l => l.Split(':', 3)).Any(f => f.Length == 3
        && f[2] == path && (_cpu.Version == CgroupVersion.V2 ? f[0] == "0" : f[1].Split(',').Contains("cpu")));

    /// <summary>User + system CPU seconds of <paramref name="pid"/> (all threads), from /proc/PID/stat.</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0; // USER_HZ
    }

    private async Task AssertCgroupAndParentGoneAsync(string id)
    {
        var clock = Stopwatch.StartNew();
        while (Directory.Exists(CgroupOf(id)) && clock.Elapsed < s_bound)
        {
            await Task.Delay(20, Ct);
        }

        Assert.False(Directory.Exists(CgroupOf(id)), $"cgroup {CgroupOf(id)} is left behind");
        Assert.False(Directory.Exists(ParentDirectory), $"the empty parent {ParentDirectory} is left behind");
    }

    [Fact]
    public async Task LimitedVm_IsInItsCgroupBeforeStart_IsHeldToItsLimitWhileSpinning_AndItsCgroupGoesWithIt()
    {
        const string Id = "limited";
        await using (var vm = await Client.ComputeSystem.CreateAsync(_client, Id,
            Document("spin", new VirtualMachineProcessor { Count = 1, Limit = 25_000, Weight = 200 }), Ct))
        {
            // Created (QEMU paused): QEMU, every one of its threads, is already in the cgroup, which holds the mapped values.
            var pid = Assert.Single(PidsIn(Id));
            Assert.Contains(Path.Combine(_run.FullName, Id), await File.ReadAllTextAsync($"/proc/{pid}/cmdline", Ct), StringComparison.Ordinal);
            var path = $"/{_parent}/{Id}";
            var threads = Directory.GetDirectories($"/proc/{pid}/task");
            Assert.True(threads.Length > 1, "QEMU should have more than one thread");
            Assert.All(threads, t => Assert.True(InCpuCgroup(File.ReadAllText(Path.Combine(t, "cgroup")), path), $"thread {t} is not in {path}"));
            if (_cpu.Version == CgroupVersion.V1)
            {
                Assert.Equal("100000", Read(Id, "cpu.cfs_period_us"));
                Assert.Equal("25000", Read(Id, "cpu.cfs_quota_us"));
                Assert.Equal("2048", Read(Id, "cpu.shares"));
            }
            else
            {
                Assert.Equal("25000 100000", Read(Id, "cpu.max"));
                Assert.Equal("200", Read(Id, "cpu.weight"));
            }

            // Running: the guest boots and then spins, wanting all of its one CPU; the kernel gives it a quarter.
            var throttled = Throttled(Id);
            await vm.StartAsync(Ct);
            var cpu = CpuSeconds(pid);
            var wall = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(4), Ct);
            var share = (CpuSeconds(pid) - cpu) / wall.Elapsed.TotalSeconds;
            TestContext.Current.TestOutputHelper?.WriteLine($"QEMU used {share:F3} of a CPU over {wall.Elapsed.TotalSeconds:F1} s under a 25% limit");
            Assert.True(share <= 0.4, $"QEMU used {share:F2} of a CPU under a 25% limit");
            Assert.True(Throttled(Id) > throttled, "the kernel never throttled the VM, so it never wanted more than its limit: the bound shows nothing");

            // Modify: new values at once; members left out keep theirs.
            await vm.ModifyAsync(Limits(new ProcessorLimits { Limit = 50_000, Weight = 50 }), Ct);
            await vm.ModifyAsync(Limits(new ProcessorLimits { Weight = 400 }, ModifyRequestType.Update), Ct);
            Assert.Equal(_cpu.Version == CgroupVersion.V1 ? "50000" : "50000 100000", Read(Id, _cpu.Version == CgroupVersion.V1 ? "cpu.cfs_quota_us" : "cpu.max"));
            Assert.Equal(_cpu.Version == CgroupVersion.V1 ? "4096" : "400", Read(Id, _cpu.Version == CgroupVersion.V1 ? "cpu.shares" : "cpu.weight"));

            await vm.TerminateAsync(Ct);
        }

        await AssertCgroupAndParentGoneAsync(Id);
    }

    [Fact]
    public async Task ModifyLimits_OfAVmCreatedWithoutCpuControls_CreatesItsCgroupAndMovesQemuIn_AndRefusesWhatItCannotHonour()
    {
        const string Id = "unlimited";
        await using (var vm = await Client.ComputeSystem.CreateAsync(_client, Id, Document("idle", new VirtualMachineProcessor { Count = 2 }), Ct))
        {
            Assert.False(Directory.Exists(CgroupOf(Id)), "a VM without Limit or Weight needs no cgroup");

            async Task Refused(ModifySettingRequest request, string path, string reason)
            {
                var e = await Assert.ThrowsAsync<HcsException>(() => vm.ModifyAsync(request, Ct));
                Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
                Assert.Contains($"{path}: ", e.Message, StringComparison.Ordinal);
                Assert.Contains(reason, e.Message, StringComparison.Ordinal);
            }

            await Refused(Limits(new ProcessorLimits { Limit = 50_000 }, ModifyRequestType.Add), "$.RequestType", "can only be updated");
            await Refused(Limits(new ProcessorLimits { Limit = 50_000, Reservation = 10_000 }), "$.Settings.Reservation", "not supported");
            await Refused(Limits(new ProcessorLimits { MaximumFrequencyMHz = 1000 }), "$.Settings.MaximumFrequencyMHz", "not supported");
            await Refused(Limits(new ProcessorLimits { Limit = 0 }), "$.Settings.Limit", "between 1 and 100000");
            await Refused(Limits(new ProcessorLimits { Weight = 10_001 }), "$.Settings.Weight", "between 0 and 10000");
            await Refused(Limits(new ProcessorLimits()) with { Settings = null }, "$.Settings", "missing");
            await Refused(Limits(new ProcessorLimits()) with { Settings = HcsJson.SerializeToElement(new CpuGroup { Id = "g" }) }, "$.Settings.Id",
                "unknown member 'Id' of ProcessorLimits");
            Assert.False(Directory.Exists(CgroupOf(Id)), "a refused request must not create the cgroup");

            await vm.ModifyAsync(Limits(new ProcessorLimits { Limit = 50_000 }), Ct);

            var pid = Assert.Single(PidsIn(Id));
            Assert.Contains(Path.Combine(_run.FullName, Id), await File.ReadAllTextAsync($"/proc/{pid}/cmdline", Ct), StringComparison.Ordinal);
            Assert.All(Directory.GetDirectories($"/proc/{pid}/task"),
                t => Assert.True(InCpuCgroup(File.ReadAllText(Path.Combine(t, "cgroup")), $"/{_parent}/{Id}"), $"thread {t} was not moved"));
            // 50% of the VM's 2 processors is one processor's worth of quota per period.
            Assert.Equal(_cpu.Version == CgroupVersion.V1 ? "100000" : "100000 100000", Read(Id, _cpu.Version == CgroupVersion.V1 ? "cpu.cfs_quota_us" : "cpu.max"));
            Assert.Equal(_cpu.Version == CgroupVersion.V1 ? "1024" : "100", Read(Id, _cpu.Version == CgroupVersion.V1 ? "cpu.shares" : "cpu.weight"));

            await vm.TerminateAsync(Ct);
        }

        await AssertCgroupAndParentGoneAsync(Id);
    }
}
