// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using System.Text;

namespace Hcs.Shim;

/// <summary>The libc calls of the shim (glibc, x86-64 layouts) and small helpers around them.</summary>
internal static unsafe partial class Native
{
    internal const int EINTR = 4;
    internal const int ESRCH = 3;
    internal const int EIO = 5;
    internal const int ECHILD = 10;
    internal const int EAGAIN = 11;

    internal const int SIGHUP = 1;
    internal const int SIGINT = 2;
    internal const int SIGPIPE = 13;
    internal const int SIGTERM = 15;
    internal const int SIGCHLD = 17;

    internal const int PR_SET_CHILD_SUBREAPER = 36;

    internal const int P_ALL = 0;
    internal const int WNOHANG = 1;
    internal const int WEXITED = 4;
    internal const int WNOWAIT = 0x01000000;

    /// <summary>siginfo_t is 128 bytes; si_code at 8, si_pid at 16, si_status at 24.</summary>
    internal const int SigInfoSize = 128;

    internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
    internal const short POSIX_SPAWN_SETSIGMASK = 0x08;

    internal const int F_GETFL = 3;
    internal const int F_SETFL = 4;
    internal const int O_NONBLOCK = 0x800;

    internal const nuint TIOCSWINSZ = 0x5414;
    internal const short POLLIN = 1;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;
    internal const int SOL_SOCKET = 1;
    internal const int SCM_RIGHTS = 1;

    private static readonly nint s_sigIgn = 1;

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int setsid();

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint signal(int signum, nint handler);

    [LibraryImport("libc")]
    internal static partial int getpid();

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int waitid(int idtype, int id, byte* infop, int options);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int waitpid(int pid, int* status, int options);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int dup2(int oldfd, int newfd);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint read(SafeHandle fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(SafeHandle fd, byte* buf, nint count);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int ioctl(SafeHandle fd, nuint request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint recvmsg(SafeHandle fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int chmod(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close_range(uint first, uint last, int flags);

    [LibraryImport("libc")]
    internal static partial int getppid();

    [LibraryImport("libc", SetLastError = true)]
    internal static partial long syscall(long number, long a1, long a2, long a3);

    [LibraryImport("libc", SetLastError = true)]
    internal static partial int execvp(byte* file, byte** argv);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sigprocmask(int how, void* set, void* oldset);

    [LibraryImport("libc")]
    internal static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_init(void* fileActions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_destroy(void* fileActions);

    [LibraryImport("libc")]
    internal static partial int posix_spawn_file_actions_adddup2(void* fileActions, int fd, int newfd);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_init(void* attr);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_destroy(void* attr);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setflags(void* attr, short flags);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setsigmask(void* attr, void* sigmask);

    [LibraryImport("libc")]
    internal static partial int posix_spawnattr_setsigdefault(void* attr, void* sigdefault);

    [LibraryImport("libc")]
    internal static partial int sigemptyset(void* set);

    [LibraryImport("libc")]
    internal static partial int sigfillset(void* set);

    /// <summary>struct msghdr (56 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public void* Name;
        public uint NameLen;
        public void* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
    }

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Len;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    /// <summary>struct winsize.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct WinSize
    {
        public ushort Row;
        public ushort Col;
        public ushort XPixel;
        public ushort YPixel;
    }

    internal static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>
    /// Before an exec: every signal back to its default disposition (the runtime ignores SIGPIPE; handlers are reset by
    /// exec anyway) and an empty signal mask, as a program started from a shell would have.
    /// </summary>
    internal static void ResetSignals()
    {
        for (int signum = 1; signum < 32; signum++)
        {
            if (signum is not (9 or 19))
            {
                _ = signal(signum, 0); // SIG_DFL
            }
        }

        byte* empty = stackalloc byte[128];
        _ = sigemptyset(empty);
        _ = sigprocmask(2, empty, null); // SIG_SETMASK
    }

    /// <summary>Sets a signal's disposition to SIG_IGN.</summary>
    internal static void Ignore(int signum) => signal(signum, s_sigIgn);

    /// <summary>Clears O_NONBLOCK (a stdio fd handed to a container process must block).</summary>
    internal static void MakeBlocking(int fd)
    {
        int flags = fcntl(fd, F_GETFL, 0);
        if (flags >= 0 && (flags & O_NONBLOCK) != 0)
        {
            _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        }
    }

    /// <summary>Writes all of <paramref name="data"/> to a raw fd (stdout/stderr), retrying on EINTR.</summary>
    internal static bool WriteAll(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    if (Errno == EINTR)
                    {
                        continue;
                    }

                    return false;
                }

                done += (int)n;
            }
        }

        return true;
    }

    /// <summary>Writes all of <paramref name="data"/> to a handle, retrying on EINTR; false on error.</summary>
    internal static bool WriteAll(SafeHandle fd, ReadOnlySpan<byte> data)
    {
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return WriteAll((int)fd.DangerousGetHandle(), data);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary>A diagnostic line on stderr (the engine logs it).</summary>
    internal static void Log(string message) => WriteAll(2, Encoding.UTF8.GetBytes("hcs-shim: " + message + "\n"));
}
