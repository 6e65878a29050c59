// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// Raw file descriptors a C caller owns (libcomputecore's <c>CloseHandle</c>): closing one by number, with the
/// kernel's answer.
/// </summary>
public static partial class FileDescriptors
{
    /// <summary>
    /// <c>close(fd)</c>: 0, or -1 with errno in <see cref="LinuxCalls.Errno"/>. Never retried: on Linux the descriptor is
    /// released even when <c>close</c> reports <c>EINTR</c>, and a retry could close a descriptor another thread just got.
    /// </summary>
    public static int Close(int fd) => close(fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
