// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Linux.Cgroups;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Processor Limit and Weight on real QEMU VMs in real cgroups of this host (each test under a parent of its own):
/// QEMU and all its threads are in the VM's cgroup before the guest runs, the files hold the mapped values, the kernel
/// holds a spinning guest to its limit, Modify changes the values (creating the cgroup if the VM had none), and the
/// cgroup and its parent are gone once the VM is. One VM boots in this class (under its 25% limit). Everything about the
/// cgroups is read through <see cref="CgroupHierarchy.Host"/>, so the class runs on a v1, hybrid or v2 host alike.
/// </summary>
public sealed class QemuCgroupTests : IAsyncLifetime
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-cgroup-");
    private readonly string _parent = $"hcs-test-{Guid.NewGuid():N}"[..21];
    private readonly CgroupHierarchy _cgroups = CgroupHierarchy.Host.HasController("cpu")
        ? CgroupHierarchy.Host
        : throw new InvalidOperationException("this host has no cgroup hierarchy with the cpu controller");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Cgroup Parent => _cgroups.Cgroup(_parent, "cpu");

    /// <summary>The version of the hierarchy holding the cpu controller (v2 on a hybrid host that gave cpu to its cgroup2 mount).</summary>
    private CgroupVersion CpuVersion => Parent.Hierarchy.Version;

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
        // A failed test must not leave cgroups on the host (rmdir only: a cgroup still holding a process stays).
        foreach (var id in (string[])["limited", "unlimited"])
        {
            CgroupOf(id).TryRemove(emptyAncestors: 1);
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

    private Cgroup CgroupOf(string id) => _cgroups.Cgroup($"{_parent}/{id}", "cpu");

    /// <summary>What the VM's cgroup holds for a quota, v1 shares and v2 weight (each version keeps one of the two).</summary>
    private CgroupCpuLimits Expected(long? quota, ulong shares, ulong weight) => CpuVersion == CgroupVersion.V1
        ? new CgroupCpuLimits(quota, 100_000, Shares: shares)
        : new CgroupCpuLimits(quota, 100_000, Weight: weight);

    private int[] PidsIn(string id) => [.. CgroupOf(id).ReadProcesses()];

    private ulong Throttled(string id) => CgroupOf(id).ReadCpuUsage()?.ThrottledPeriods ?? throw new InvalidOperationException("cpu.stat has no nr_throttled");

    /// <summary>True if a <c>/proc/PID[/task/TID]/cgroup</c> text puts the task in <paramref name="path"/> of the cpu hierarchy.</summary>
    private bool InCpuCgroup(string procCgroup, string path) => procCgroup.Split('\n').Select(l => l.Split(':', 3)).Any(f => f.Length == 3
        && f[2] == path && (CpuVersion == CgroupVersion.V2 ? f[0] == "0" : f[1].Split(',').Contains("cpu")));

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
        while (CgroupOf(id).Exists && clock.Elapsed < s_bound)
        {
            await Task.Delay(20, Ct);
        }

        Assert.False(CgroupOf(id).Exists, $"{CgroupOf(id)} is left behind");
        Assert.False(Parent.Exists, $"the empty parent {Parent} is left behind");
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
            Assert.Equal(Expected(25_000, shares: 2048, weight: 200), CgroupOf(Id).ReadCpuLimits());

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
            Assert.Equal(Expected(50_000, shares: 4096, weight: 400), CgroupOf(Id).ReadCpuLimits());

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
            Assert.False(CgroupOf(Id).Exists, "a VM without Limit or Weight needs no cgroup");

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
            Assert.False(CgroupOf(Id).Exists, "a refused request must not create the cgroup");

            await vm.ModifyAsync(Limits(new ProcessorLimits { Limit = 50_000 }), Ct);

            var pid = Assert.Single(PidsIn(Id));
            Assert.Contains(Path.Combine(_run.FullName, Id), await File.ReadAllTextAsync($"/proc/{pid}/cmdline", Ct), StringComparison.Ordinal);
            Assert.All(Directory.GetDirectories($"/proc/{pid}/task"),
                t => Assert.True(InCpuCgroup(File.ReadAllText(Path.Combine(t, "cgroup")), $"/{_parent}/{Id}"), $"thread {t} was not moved"));
            // 50% of the VM's 2 processors is one processor's worth of quota per period.
            Assert.Equal(Expected(100_000, shares: 1024, weight: 100), CgroupOf(Id).ReadCpuLimits());

            await vm.TerminateAsync(Ct);
        }

        await AssertCgroupAndParentGoneAsync(Id);
    }
}
