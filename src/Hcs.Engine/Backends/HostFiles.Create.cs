// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Engine.Backends;

/// <summary>What a host path is, as <see cref="HostFiles.TypeOf(string)"/> sees it (symbolic links are not followed).</summary>
public enum HostFileType
{
    /// <summary>Nothing is there.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A Unix socket.</summary>
    Socket,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>Anything else: a symbolic link, a FIFO, a character device.</summary>
    Other,
}

/// <summary>
/// Creating, renaming, unlinking and binding host paths named by a client. Like <see cref="HostFiles.Open"/>, these
/// act with the calling thread's credentials: call them inside <see cref="HostFiles.AsCallerAsync{T}"/>, so the kernel
/// checks each step as it would for the caller. Names inside a directory are resolved from a descriptor of that
/// directory opened once (<see cref="OpenParent"/>), never by path again, so the directory cannot be swapped between
/// steps.
/// </summary>
public static partial class HostFiles
{
    private const int O_PATH = 0x200000, O_CREAT = 0x40, O_EXCL = 0x80, O_NOFOLLOW = 0x20000;
    private const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    // st_mode file types (S_IFMT, S_IFREG, S_IFDIR, S_IFSOCK, S_IFBLK).
    private const int TypeMask = 0xF000, TypeRegular = 0x8000, TypeDirectory = 0x4000, TypeSocket = 0xC000, TypeBlockDevice = 0x6000;
    private const uint STATX_TYPE = 1;
    private const int AF_UNIX = 1, SOCK_STREAM = 1, SOCK_CLOEXEC = 0x80000;

    /// <summary>
    /// True when <see cref="HostCaller.Current"/> is someone other than the service's own uid: host paths are then used
    /// with credentials the service's helpers (QEMU, runc) do not have, so they must be given descriptors, not names.
    /// </summary>
    public static bool ActsForCaller => HostCaller.Current is { } caller && caller.Uid != geteuid();

    /// <summary>
    /// Opens the directory that holds <paramref name="path"/> (<c>O_PATH</c>: only search permission on the way is
    /// needed; creating in it is checked when it happens). Fails like <see cref="Open"/>, naming the directory.
    /// </summary>
    public static SafeFileHandle OpenParent(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        var directory = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(directory))
        {
            directory = "/";
        }

        return Descriptor(open(directory, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), directory, "open the directory", what);
    }

    /// <summary>
    /// Creates <paramref name="name"/> in <paramref name="directory"/> for reading and writing, failing if anything is
    /// there (<c>O_CREAT|O_EXCL|O_NOFOLLOW</c>), with <paramref name="mode"/>: it belongs to whoever runs the thread.
    /// <paramref name="path"/> and <paramref name="what"/> name it in errors.
    /// </summary>
    public static SafeFileHandle CreateExclusive(SafeFileHandle directory, string name, UnixFileMode mode, string path, string what)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Descriptor(openat(directory, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (int)mode), path, "create a file in the directory of", what);
    }

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> inside <paramref name="directory"/>, replacing what is
    /// at <paramref name="to"/> only if the kernel lets the thread's credentials do so.
    /// </summary>
    public static void RenameWithin(SafeFileHandle directory, string from, string to, string path, string what)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (renameat(directory, from, directory, to) != 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path, "replace", what);
        }
    }

    /// <summary>Removes <paramref name="name"/> from <paramref name="directory"/> (not a directory); false if it could not.</summary>
    public static bool UnlinkWithin(SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return unlinkat(directory, name, 0) == 0;
    }

    /// <summary>
    /// False when <paramref name="name"/> exists in a sticky <paramref name="directory"/> (like <c>/tmp</c>) and the
    /// caller (<see cref="HostCaller.Current"/>; the service when none, which may) owns neither: the kernel would then
    /// refuse to rename over it. Lets a long operation fail before it starts; the rename itself remains the check.
    /// </summary>
    public static bool MayReplace(SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (HostCaller.Current is not { } caller)
        {
            return true;
        }

        var (dirMode, dirOwner) = ModeAndOwner(directory, "", AT_EMPTY_PATH);
        var (mode, owner) = ModeAndOwner(directory, name, AT_SYMLINK_NOFOLLOW);
        const int S_ISVTX = 0x200;
        return dirMode < 0 || mode < 0 || (dirMode & S_ISVTX) == 0 || owner == caller.Uid || dirOwner == caller.Uid;
    }

    private static unsafe (int Mode, uint Owner) ModeAndOwner(SafeFileHandle directory, string name, int flags)
    {
        // struct statx: stx_uid is the u32 at offset 20, stx_mode the u16 at offset 28.
        const uint STATX_MODE = 2, STATX_UID = 8;
        var buffer = stackalloc byte[256];
        var added = false;
        try
        {
            directory.DangerousAddRef(ref added);
            return statx((int)directory.DangerousGetHandle(), name, flags, STATX_TYPE | STATX_MODE | STATX_UID, buffer) == 0
                ? (*(ushort*)(buffer + 28), *(uint*)(buffer + 20))
                : (-1, 0);
        }
        finally
        {
            if (added)
            {
                directory.DangerousRelease();
            }
        }
    }

    /// <summary>Removes <paramref name="path"/> (not a directory) with the thread's credentials; false if it could not.</summary>
    public static bool Unlink(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return unlinkat(AT_FDCWD, path, 0) == 0;
    }

    /// <summary>What is at <paramref name="name"/> in <paramref name="directory"/> (a symbolic link is not followed).</summary>
    public static HostFileType TypeOf(SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return TypeOf(statx(directory, name, AT_SYMLINK_NOFOLLOW));
    }

    /// <summary>What <paramref name="path"/> is (a symbolic link in its last component is not followed).</summary>
    public static HostFileType TypeOf(string path) => TypeOf(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW));

    /// <summary>What the open descriptor <paramref name="handle"/> is.</summary>
    public static HostFileType TypeOf(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return TypeOf(statx(handle, "", AT_EMPTY_PATH));
    }

    /// <summary>
    /// Listens on a new Unix socket at <paramref name="path"/>, bound with the thread's credentials (so the socket
    /// file belongs to them and its directory must be theirs to write). Something already at the path is replaced
    /// only if it is a socket and the thread may unlink it; anything else is <c>E_ACCESSDENIED</c> and left alone.
    /// </summary>
    public static Socket ListenUnix(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        switch (TypeOf(path))
        {
            case HostFileType.Missing:
                break;
            case HostFileType.Socket:
                if (unlinkat(AT_FDCWD, path, 0) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != ENOENT)
                    {
                        throw Failure(errno, path, "replace the socket", what);
                    }
                }

                break;
            default:
                throw Refusal(path, "replace", what, "something other than a socket is there, and only a socket is replaced");
        }

        var fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path, "create a socket for", what);
        }

        var handle = new SafeSocketHandle(fd, ownsHandle: true);
        try
        {
            var address = new byte[110];
            address[0] = AF_UNIX;
            var length = Encoding.UTF8.GetBytes(path, address.AsSpan(2, 107));
            if (bind(handle, address, 2 + length + 1) != 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), path, "bind", what);
            }

            if (listen(handle, 16) != 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), path, "listen on", what);
            }

            return new Socket(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>A refusal that is not an errno: <c>E_ACCESSDENIED</c> naming <paramref name="what"/>, the path and the caller.</summary>
    private static HcsException Refusal(string path, string verb, string what, string reason)
    {
        var who = HostCaller.Current is { } caller ? caller.ToString() : "the service";
        var quoted = path.Length > 256 ? path[..256] + $"…({path.Length} chars)" : path;
        return new HcsException(HResults.E_ACCESSDENIED,
            result: ResultError.From(HResults.E_ACCESSDENIED, $"{what}: {who} may not {verb} '{quoted}': {reason}", "hcs.host"));
    }

    private static HostFileType TypeOf(int mode) => mode < 0 ? HostFileType.Missing : (mode & TypeMask) switch
    {
        TypeRegular => HostFileType.Regular,
        TypeDirectory => HostFileType.Directory,
        TypeSocket => HostFileType.Socket,
        TypeBlockDevice => HostFileType.BlockDevice,
        _ => HostFileType.Other,
    };

    /// <summary>The file type and mode bits (<c>stx_mode</c>), or -1 when statx fails.</summary>
    private static int statx(SafeFileHandle directory, string name, int flags)
    {
        var added = false;
        try
        {
            directory.DangerousAddRef(ref added);
            return statx((int)directory.DangerousGetHandle(), name, flags);
        }
        finally
        {
            if (added)
            {
                directory.DangerousRelease();
            }
        }
    }

    private static unsafe int statx(int directory, string name, int flags)
    {
        // struct statx is 256 bytes on every architecture; stx_mode is the u16 at offset 28.
        var buffer = stackalloc byte[256];
        return statx(directory, name, flags, STATX_TYPE, buffer) == 0 ? *(ushort*)(buffer + 28) : -1;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat(SafeFileHandle dirfd, string path, int flags, int mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat(SafeFileHandle olddirfd, string oldpath, SafeFileHandle newdirfd, string newpath);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlinkat(SafeFileHandle dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int unlinkat(int dirfd, string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(SafeSocketHandle fd, byte[] address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(SafeSocketHandle fd, int backlog);
}
