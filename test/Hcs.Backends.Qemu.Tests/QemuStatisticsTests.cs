// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// <see cref="QemuStatistics"/> on real processes (this test process stands in for QEMU): CPU time and resident memory
/// from procfs, a sample reused for one procfs tick (on a fake clock), zeros once the process is gone.
/// </summary>
public sealed class QemuStatisticsTests
{
    [Fact]
    public void Sample_IsThisProcessesCpuTimeAndResidentMemory()
    {
        var statistics = new QemuStatistics(Environment.ProcessId, new FakeTimeProvider());
        using var self = Process.GetCurrentProcess();

        var (cpu, rss) = statistics.Sample();

        Assert.InRange(TimeSpan.FromTicks((long)cpu), self.TotalProcessorTime - TimeSpan.FromMilliseconds(50), self.TotalProcessorTime + TimeSpan.FromMilliseconds(50));
        Assert.InRange((long)rss, self.WorkingSet64 / 2, self.WorkingSet64 * 2);
    }

    [Fact]
    public void ASample_IsReusedForOneTick_ThenReadAgain()
    {
        var time = new FakeTimeProvider();
        var statistics = new QemuStatistics(Environment.ProcessId, time);
        var first = statistics.Sample();
        using var self = Process.GetCurrentProcess();
        var until = self.TotalProcessorTime + TimeSpan.FromMilliseconds(50);
        while (self.TotalProcessorTime < until)
        {
            self.Refresh(); // burns CPU until procfs has counted several more ticks
        }

        time.Advance(QemuStatistics.Lifetime - TimeSpan.FromTicks(1));
        Assert.Equal(first, statistics.Sample());

        time.Advance(TimeSpan.FromTicks(1));
        Assert.True(statistics.Sample().Cpu > first.Cpu, "a sample one tick old is read again");
    }

    [Fact]
    public void AProcessThatIsGone_ReadsAsZeros() =>
        Assert.Equal((0UL, 0UL), new QemuStatistics(int.MaxValue, new FakeTimeProvider()).Sample()); // above any pid_max
}
