// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Hcs.Linux.Tests;

/// <summary>
/// <see cref="HostProcess"/> on real processes, through both the pidfd path and the procfs fallback. The processes are
/// <c>sleep</c> children of the test, which .NET reaps: to <see cref="HostProcess"/> they are processes by pid and
/// start time like any other.
/// </summary>
public sealed class HostProcessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<bool> Paths => HostProcess.HasPidfd ? new TheoryData<bool>(true, false) : new TheoryData<bool>(false);

    [Fact]
    public void ThisKernel_HasPidfds() => Assert.True(HostProcess.HasPidfd, "this host's kernel (5.3 or later) has pidfd_open");

    [Fact]
    public void Of_ThisProcess_IsAlive_WithItsCommandLine()
    {
        var self = HostProcess.Of(Environment.ProcessId);
        Assert.NotNull(self);
        Assert.True(self.Value.IsAlive);
        Assert.Equal(ProcessStat.Read(Environment.ProcessId)!.Value.StartTime, self.Value.StartTime);
        Assert.NotEmpty(HostProcess.CommandLineOf(Environment.ProcessId));
        Assert.Contains(Environment.ProcessId, HostProcess.AllPids());
        Assert.False(new HostProcess(Environment.ProcessId, self.Value.StartTime + 1).IsAlive);
    }

    [Fact]
    public void CommandLineOf_KeepsEveryArgument_AndIsEmptyForNoProcess()
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var argument in (string[])["-c", "sleep 60; :", "name", ""])
        {
            start.ArgumentList.Add(argument);
        }

        using var shell = Process.Start(start)!;
        try
        {
            Assert.Equal(["/bin/sh", "-c", "sleep 60; :", "name", ""], HostProcess.CommandLineOf(shell.Id));
            Assert.Empty(HostProcess.CommandLineOf(int.MaxValue));
        }
        finally
        {
            shell.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public void BootId_IsTheKernels() => Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), HostProcess.BootId());

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Kill_EndsTheProcess_AndTheWaitSeesItsExit(bool pidfd)
    {
        using var sleeper = Sleep("60");
        var process = HostProcess.Of(sleeper.Id)!.Value;
        Assert.True(process.Kill(pidfd));
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(30), TimeProvider.System, pidfd, Ct));
        Assert.False(process.IsAlive);
        await sleeper.WaitForExitAsync(Ct);
        Assert.Equal(137, sleeper.ExitCode);
        Assert.False(process.Kill(pidfd), "a process that is gone is not signalled");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Kill_LeavesAProcessWhoseStartTimeDiffers(bool pidfd)
    {
        using var sleeper = Sleep("60");
        try
        {
            var real = HostProcess.Of(sleeper.Id)!.Value;
            var impostor = real with { StartTime = real.StartTime + 1 }; // the pid as another process had it
            Assert.False(impostor.Kill(pidfd));
            Assert.True(await impostor.WaitForExitAsync(TimeSpan.FromSeconds(5), TimeProvider.System, pidfd, Ct),
                "the process that had the pid is gone: waiting for it ends at once");
            Assert.True(real.IsAlive);
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task WaitForExit_OfALiveProcess_EndsFalseAtTheBound_OnTheGivenClock(bool pidfd)
    {
        using var sleeper = Sleep("60");
        try
        {
            var time = new FakeTimeProvider();
            var process = HostProcess.Of(sleeper.Id)!.Value;
            var wait = process.WaitForExitAsync(TimeSpan.FromSeconds(5), time, pidfd, Ct);
            time.Advance(TimeSpan.FromSeconds(4));
            Assert.False(wait.IsCompleted);
            time.Advance(TimeSpan.FromSeconds(2));
            Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(30), Ct));
            Assert.True(process.IsAlive);
        }
        finally
        {
            sleeper.Kill();
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task WaitForExit_IsCancellable(bool pidfd)
    {
        using var sleeper = Sleep("60");
        try
        {
            using var cancel = new CancellationTokenSource();
            var wait = HostProcess.Of(sleeper.Id)!.Value.WaitForExitAsync(TimeSpan.FromMinutes(5), new FakeTimeProvider(), pidfd, cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        }
        finally
        {
            sleeper.Kill();
        }
    }

    private static Process Sleep(params string[] arguments)
    {
        var start = new ProcessStartInfo("/bin/sleep") { UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
