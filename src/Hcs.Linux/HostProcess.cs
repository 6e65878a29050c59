// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// A host process that need not be our child (a QEMU or a container monitor started by an earlier life of the
/// service), named by pid and start time (field 22 of <c>/proc/PID/stat</c>), so a pid the kernel gave to another
/// process since is never taken for it. The one owner of liveness, signalling and exit of such processes.
/// </summary>
/// <remarks>
/// <para><b>Liveness.</b> It is alive while <c>/proc/PID/stat</c> exists with the same start time and a state that is
/// not <see cref="ProcessStat.IsZombie"/>: an exited process is dead to hcs even before its parent (PID 1 for an
/// orphan) reaps it.</para>
/// <para><b>Signals and exit.</b> Where the kernel has pidfds (Linux 5.3), <see cref="Kill()"/> opens one
/// (<c>pidfd_open</c>), re-checks the start time, and signals through it (<c>pidfd_send_signal</c>): the signal can
/// only reach the process that was checked. <see cref="WaitForExitAsync(TimeSpan, TimeProvider, CancellationToken)"/> waits for the pidfd to become readable
/// (<c>poll</c>; the kernel makes it so when the process exits), with no polling. The one fallback, for a kernel
/// without pidfds, reads the <c>/proc</c> state: the signal goes by pid right after the check (a pid reused in that
/// window of microseconds is the residual risk), and the wait reads procfs every 20 ms. <c>waitid(P_PIDFD)</c> is not
/// used: the processes this type watches are not our children, and the ones that are (a QEMU this service started)
/// are reaped by <see cref="System.Diagnostics.Process"/>, which must stay the only reaper.</para>
/// </remarks>
/// <param name="Pid">The pid.</param>
/// <param name="StartTime">Clock ticks after boot at which it started.</param>
public readonly partial record struct HostProcess(int Pid, ulong StartTime)
{
    private const long SysPidfdSendSignal = 424, SysPidfdOpen = 434;
    private const int SIGKILL = 9;
    private static readonly TimeSpan s_fallbackInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>True when this kernel has <c>pidfd_open</c> (Linux 5.3 and later).</summary>
    public static bool HasPidfd { get; } = ProbePidfd();

    /// <summary>The live process with pid <paramref name="pid"/> as it is now; null when there is none or it has exited (a zombie).</summary>
    public static HostProcess? Of(int pid) => ProcessStat.Read(pid) is { IsZombie: false } stat ? new HostProcess(pid, stat.StartTime) : null;

    /// <summary>True while this very process runs (same pid, same start time, not a zombie).</summary>
    public bool IsAlive => ProcessStat.Read(Pid) is { IsZombie: false } stat && stat.StartTime == StartTime;

    /// <summary>
    /// The arguments of process <paramref name="pid"/> from <c>/proc/PID/cmdline</c> (an empty argument stays one);
    /// empty when it is gone, a zombie or a kernel thread.
    /// </summary>
    public static IReadOnlyList<string> CommandLineOf(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        // Each argument ends with a NUL: drop the last one's, keep empty arguments.
        return text.Length == 0 ? [] : (text.EndsWith('\0') ? text[..^1] : text).Split('\0');
    }

    /// <summary>The pid of every process on the host now (the numeric entries of <c>/proc</c>).</summary>
    public static IEnumerable<int> AllPids()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>The kernel's boot id (<c>/proc/sys/kernel/random/boot_id</c>), or null: a start time is only meaningful within one boot.</summary>
    public static string? BootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>SIGKILL, if it is still this process (a zombie is left alone). True if the signal was sent.</summary>
    public bool Kill() => Kill(HasPidfd);

    /// <summary>
    /// Waits up to <paramref name="bound"/> (on <paramref name="time"/>) for it to exit: true once it has (or was gone
    /// already), false after the bound. Waits by pidfd readiness where the kernel has pidfds, else by reading procfs.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public Task<bool> WaitForExitAsync(TimeSpan bound, TimeProvider time, CancellationToken cancellationToken = default) =>
        WaitForExitAsync(bound, time, HasPidfd, cancellationToken);

    /// <summary><see cref="Kill()"/>, choosing the pidfd path or the fallback (tests run both).</summary>
    internal bool Kill(bool usePidfd)
    {
        if (!usePidfd)
        {
            return IsAlive && kill(Pid, SIGKILL) == 0;
        }

        using var pidfd = OpenPidfd();
        return pidfd is not null && IsAlive && syscall(SysPidfdSendSignal, pidfd.DangerousGetHandle(), SIGKILL, 0, 0) == 0;
    }

    /// <summary><see cref="WaitForExitAsync(TimeSpan, TimeProvider, CancellationToken)"/>, choosing the pidfd path or the fallback.</summary>
    internal async Task<bool> WaitForExitAsync(TimeSpan bound, TimeProvider time, bool usePidfd, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        cancellationToken.ThrowIfCancellationRequested();
        if (!usePidfd)
        {
            return await PollProcfsAsync(bound, time, cancellationToken).ConfigureAwait(false);
        }

        // Open first, then check the identity: a pidfd opened after a pid was reused would watch the other process.
        using var pidfd = OpenPidfd();
        if (pidfd is null || !IsAlive)
        {
            return true;
        }

        using var wake = new Wakeup();
        using var timer = time.CreateTimer(static state => ((Wakeup)state!).Signal(), wake, bound, Timeout.InfiniteTimeSpan);
        using var registration = cancellationToken.Register(static state => ((Wakeup)state!).Signal(), wake);
        var exited = await Task.Factory.StartNew(() => wake.WaitReadable(pidfd), CancellationToken.None, TaskCreationOptions.LongRunning,
            TaskScheduler.Default).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return exited;
    }

    private async Task<bool> PollProcfsAsync(TimeSpan bound, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (IsAlive)
        {
            if (time.GetElapsedTime(started) >= bound)
            {
                return false;
            }

            await Task.Delay(s_fallbackInterval, time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private Microsoft.Win32.SafeHandles.SafeFileHandle? OpenPidfd()
    {
        var fd = syscall(SysPidfdOpen, Pid, 0, 0, 0);
        return fd < 0 ? null : new Microsoft.Win32.SafeHandles.SafeFileHandle((nint)fd, ownsHandle: true);
    }

    private static bool ProbePidfd()
    {
        var fd = syscall(SysPidfdOpen, Environment.ProcessId, 0, 0, 0);
        if (fd < 0)
        {
            return false;
        }

        _ = close((int)fd);
        return true;
    }

    /// <summary>A pipe whose read end wakes a <c>poll</c> on a pidfd (timeout, cancellation).</summary>
    private sealed unsafe class Wakeup : IDisposable
    {
        private const short POLLIN = 1;
        private readonly Lock _gate = new();
        private readonly int _read;
        private readonly int _write;
        private bool _closed; // guarded by _gate

        public Wakeup()
        {
            var fds = stackalloc int[2];
            if (pipe2(fds, LinuxCalls.O_CLOEXEC) != 0)
            {
                throw new IOException($"pipe2 failed: {LinuxCalls.Describe(LinuxCalls.Errno)}");
            }

            (_read, _write) = (fds[0], fds[1]);
        }

        public void Signal()
        {
            lock (_gate)
            {
                if (!_closed)
                {
                    byte one = 1;
                    _ = write(_write, &one, 1);
                }
            }
        }

        /// <summary>Blocks until <paramref name="pidfd"/> is readable (true: the process exited) or the pipe is (false).</summary>
        public bool WaitReadable(SafeHandle pidfd)
        {
            var fds = stackalloc PollFd[2];
            fds[0] = new PollFd { Fd = (int)pidfd.DangerousGetHandle(), Events = POLLIN };
            fds[1] = new PollFd { Fd = _read, Events = POLLIN };
            while (true)
            {
                if (poll(fds, 2, -1) >= 0)
                {
                    return fds[0].Revents != 0;
                }

                if (LinuxCalls.Errno != LinuxCalls.EINTR)
                {
                    throw new IOException($"poll on a pidfd failed: {LinuxCalls.Describe(LinuxCalls.Errno)}");
                }
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _closed = true;
            }

            _ = close(_read);
            _ = close(_write);
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a1, long a2, long a3, long a4);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint count, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
