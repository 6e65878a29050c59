// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Linux.Cgroups;
using Xunit;

namespace Hcs.Linux.Tests.Cgroups;

/// <summary>
/// The implementation this host runs (v1 here, v2 on a stock Debian 12 or Ubuntu 22.04+ host) against the real
/// <c>/sys/fs/cgroup</c>, as root: a cgroup is created under a parent of its own, holds a spinning process, takes CPU
/// limits (1% of a CPU, which the kernel enforces by throttling it even on a loaded host), freezes it, and goes with its
/// parent once the process is gone.
/// </summary>
public sealed class HostCgroupTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly string _parent = $"hcs-linux-test-{Guid.NewGuid():N}"[..24];
    private Process? _sleeper;

    public void Dispose()
    {
        if (_sleeper is { HasExited: false })
        {
            _sleeper.Kill();
            _sleeper.WaitForExit();
        }

        _sleeper?.Dispose();
        CgroupHierarchy.Host.Cgroup($"{_parent}/c1", "cpu", "cpuacct", "freezer").TryRemove(emptyAncestors: 1);
    }

    [Fact]
    public void Detect_MatchesTheHost()
    {
        var unified = File.Exists("/sys/fs/cgroup/cgroup.controllers");

        Assert.Equal(unified ? CgroupVersion.V2 : CgroupVersion.V1, CgroupHierarchy.Host.Version);
        Assert.True(CgroupHierarchy.Host.HasController("cpu"));
        Assert.True(CgroupHierarchy.Host.HasController("memory"));
    }

    [Fact]
    public async Task ACgroup_HoldsAProcess_TakesLimits_Freezes_AndGoesWithItsParent()
    {
        Assert.SkipUnless(Environment.UserName == "root", "creating cgroups needs root");
        var cgroup = CgroupHierarchy.Host.Cgroup($"{_parent}/c1", "cpu", "cpuacct", "freezer");
        cgroup.Create();
        cgroup.SetCpuLimits(new CgroupCpuLimits(1_000, 100_000, Shares: 2048, Weight: 200));
        _sleeper = Process.Start("sh", ["-c", "while :; do :; done"]);

        cgroup.AddProcess(_sleeper.Id);

        Assert.Equal([_sleeper.Id], cgroup.ReadProcesses());
        Assert.Contains(File.ReadAllLines($"/proc/{_sleeper.Id}/cgroup"), l => l.EndsWith($":/{_parent}/c1", StringComparison.Ordinal));
        Assert.Equal(CgroupHierarchy.Host.Version == CgroupVersion.V1
            ? new CgroupCpuLimits(1_000, 100_000, Shares: 2048)
            : new CgroupCpuLimits(1_000, 100_000, Weight: 200), cgroup.ReadCpuLimits());
        await EventuallyAsync(() => cgroup.ReadCpuUsage()?.ThrottledPeriods > 0); // the spinner wants more than its quota
        Assert.True(cgroup.ReadCpuUsage()!.UsageNanoseconds > 0);

        cgroup.SetFrozen(true);
        await EventuallyAsync(() => cgroup.ReadFrozen() == true);
        cgroup.SetFrozen(false);
        await EventuallyAsync(() => cgroup.ReadFrozen() == false);

        Assert.False(cgroup.TryRemove(emptyAncestors: 1), "a cgroup holding a process is not removed");
        _sleeper.Kill();
        await _sleeper.WaitForExitAsync(TestContext.Current.CancellationToken);
        await EventuallyAsync(() => cgroup.TryRemove(emptyAncestors: 1));

        Assert.False(cgroup.Exists);
        Assert.False(CgroupHierarchy.Host.Cgroup(_parent, "cpu").Exists, "the empty parent goes too");
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < s_bound, "the kernel did not get there in time");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}
