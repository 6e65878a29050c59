// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Linux;

/// <summary>
/// The calls <c>Hcs.Engine.Backends.HostFiles</c> makes for a client's host paths, with the calling thread's
/// credentials (see <see cref="HostCredentials.RunAsync{T}"/>): opening, checking access on a descriptor, creating,
/// renaming and unlinking inside a directory descriptor, and binding a Unix socket. Each returns what the kernel
/// returns (-1 with errno in <see cref="Errno"/>), so the caller words its own errors.
/// </summary>
public static partial class LinuxCalls
{
    private const long SysFaccessat2 = 439;
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    /// <summary>The longest path a Unix socket may be bound to (<c>sun_path</c> less its terminating NUL).</summary>
    public const int MaxUnixSocketPath = 107;

    /// <summary><c>openat(dirfd, path, flags, mode)</c> (the working directory when <paramref name="dir"/> is null): a descriptor or -1.</summary>
    public static int Openat(SafeFileHandle? dir, string path, int flags, uint mode) =>
        dir is null ? openat_cwd(AT_FDCWD, path, flags, mode) : openat_handle(dir, path, flags, mode);

    /// <summary>
    /// <c>faccessat2(fd, "", access, AT_EMPTY_PATH | AT_EACCESS)</c>: 0 when the thread's effective (file system)
    /// credentials may use the open descriptor for <paramref name="access"/> (<see cref="R_OK"/>, <see cref="W_OK"/>,
    /// <see cref="X_OK"/>), else -1.
    /// </summary>
    public static long AccessByDescriptor(SafeFileHandle fd, int access)
    {
        ArgumentNullException.ThrowIfNull(fd);
        var added = false;
        try
        {
            fd.DangerousAddRef(ref added);
            return syscall_faccessat2(SysFaccessat2, fd.DangerousGetHandle(), "", access, AT_EMPTY_PATH | AT_EACCESS);
        }
        finally
        {
            if (added)
            {
                fd.DangerousRelease();
            }
        }
    }

    /// <summary><c>renameat(dir, from, dir, to)</c>: 0 or -1.</summary>
    public static int Renameat(SafeFileHandle directory, string from, string to) => renameat(directory, from, directory, to);

    /// <summary><c>unlinkat(dirfd, name, flags)</c> (the working directory when <paramref name="dir"/> is null): 0 or -1.</summary>
    public static int Unlinkat(SafeFileHandle? dir, string name, int flags) =>
        dir is null ? unlinkat_cwd(AT_FDCWD, name, flags) : unlinkat_handle(dir, name, flags);

    /// <summary>
    /// A new Unix stream socket (close-on-exec) bound to <paramref name="path"/> and listening with
    /// <paramref name="backlog"/>; the socket file belongs to the thread's credentials. Null with
    /// <paramref name="failedStep"/> (<c>socket</c>, <c>bind</c> or <c>listen</c>) and errno set when a step fails.
    /// </summary>
    public static Socket? ListenUnix(string path, int backlog, out string? failedStep)
    {
        ArgumentNullException.ThrowIfNull(path);
        var fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            failedStep = "socket";
            return null;
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        var address = new byte[2 + MaxUnixSocketPath + 1];
        address[0] = AF_UNIX;
        var length = Encoding.UTF8.GetBytes(path, address.AsSpan(2, MaxUnixSocketPath));
        if (bind(handle, address, 2 + length + 1) != 0)
        {
            failedStep = "bind";
            Close(handle);
            return null;
        }

        if (listen(handle, backlog) != 0)
        {
            failedStep = "listen";
            Close(handle);
            return null;
        }

        failedStep = null;
        return new Socket(handle);
    }

    /// <summary>Closes <paramref name="handle"/> keeping the errno of the call that failed before.</summary>
    private static void Close(SafeHandle handle)
    {
        var errno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        Marshal.SetLastPInvokeError(errno);
    }

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat_cwd(int dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat_handle(SafeFileHandle dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall_faccessat2(long number, nint fd, string path, int mode, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat(SafeFileHandle olddirfd, string oldpath, SafeFileHandle newdirfd, string newpath);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlinkat_handle(SafeFileHandle dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlinkat_cwd(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(SafeSocketHandle fd, byte[] address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(SafeSocketHandle fd, int backlog);
}
