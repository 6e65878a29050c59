// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// Connected pairs of Unix stream sockets, for handing one end to native code as a plain descriptor:
/// <c>socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)</c> and <c>close</c>. Every call returns -1 (or false) and leaves errno in <see cref="LinuxCalls.Errno"/> on failure.
/// </summary>
public static partial class SocketPair
{
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

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

        first = fds[0];
        second = fds[1];
        return true;
    }

    /// <summary>Closes <paramref name="fd"/>; false with errno set (the descriptor is released even then, as on Linux).</summary>
    /// <param name="fd">An open descriptor the caller owns.</param>
    public static bool Close(int fd) => close(fd) == 0;

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
