// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// Connected pairs of Unix stream sockets, for handing one end to native code as a plain descriptor:
/// <c>socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)</c>, <c>send</c> with <c>MSG_NOSIGNAL</c> (a peer that closed its
/// end makes it fail with EPIPE instead of raising SIGPIPE: .NET's own socket sends do not set the flag, they rely on
/// the runtime ignoring SIGPIPE, which a host program may undo), <c>shutdown(SHUT_WR)</c> and <c>close</c>. Every call
/// returns -1 (or false) and leaves errno in <see cref="LinuxCalls.Errno"/> on failure.
/// </summary>
public static partial class SocketPair
{
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000, MSG_NOSIGNAL = 0x4000, SHUT_WR = 1, EINTR = 4, F_DUPFD_CLOEXEC = 1030;

    /// <summary>
    /// A new connected pair of close-on-exec Unix stream sockets (each end both reads and writes); false with errno set.
    /// The caller owns both descriptors.
    /// </summary>
    /// <param name="first">One end.</param>
    /// <param name="second">The other end.</param>
    public static unsafe bool TryCreate(out int first, out int second)
    {
        var fds = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        {
            first = second = -1;
            return false;
        }

        // Never 0, 1 or 2 (a host that closed its stdio would otherwise get them): descriptor 0 carried in a HANDLE
        // would read as NULL, "no stream", and a stray write to 1 or 2 would land in the stream.
        first = AboveStandard(fds[0]);
        second = AboveStandard(fds[1]);
        if (first < 0 || second < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = first >= 0 ? close(first) : 0;
            _ = second >= 0 ? close(second) : 0;
            Marshal.SetLastPInvokeError(errno);
            first = second = -1;
            return false;
        }

        return true;
    }

    private static int AboveStandard(int fd)
    {
        if (fd > 2)
        {
            return fd;
        }

        var moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        var errno = Marshal.GetLastPInvokeError();
        close(fd);
        Marshal.SetLastPInvokeError(errno);
        return moved;
    }

    /// <summary>
    /// Sends from <paramref name="data"/> on the blocking socket <paramref name="fd"/> with <c>MSG_NOSIGNAL</c> (retrying
    /// on EINTR): the count sent (at least 1 for non-empty data), or -1 with errno set (EPIPE: the peer closed its end).
    /// </summary>
    /// <param name="fd">A connected stream socket.</param>
    /// <param name="data">What to send.</param>
    public static unsafe nint Send(int fd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (true)
            {
                var sent = send(fd, p, (nuint)data.Length, MSG_NOSIGNAL);
                if (sent >= 0 || LinuxCalls.Errno != EINTR)
                {
                    return sent;
                }
            }
        }
    }

    /// <summary>Shuts <paramref name="fd"/> down for sending: the peer reads EOF once it has read what was sent.</summary>
    /// <param name="fd">A connected stream socket.</param>
    public static bool ShutdownWrite(int fd) => shutdown(fd, SHUT_WR) == 0;

    /// <summary>Closes <paramref name="fd"/>; false with errno set (the descriptor is released even then, as on Linux).</summary>
    /// <param name="fd">An open descriptor the caller owns.</param>
    public static bool Close(int fd) => close(fd) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int shutdown(int fd, int how);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);
}
