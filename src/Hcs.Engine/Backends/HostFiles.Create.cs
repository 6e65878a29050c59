// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hcs.Linux;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;
using static Hcs.Linux.LinuxCalls;

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
    /// <summary>
    /// True when <see cref="HostCaller.Current"/> is someone other than the service's own uid: host paths are then used
    /// with credentials the service's helpers (QEMU, runc) do not have, so they must be given descriptors, not names.
    /// </summary>
    public static bool ActsForCaller => HostCaller.Current is { } caller && caller.Uid != HostCredentials.EffectiveUid;

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

        return Descriptor(Openat(null, directory, O_PATH | O_DIRECTORY | O_CLOEXEC, 0), directory, "open the directory", what);
    }

    /// <summary>
    /// Creates <paramref name="name"/> in <paramref name="directory"/> for reading and writing, failing if anything is
    /// there (<c>O_CREAT|O_EXCL|O_NOFOLLOW</c>), with <paramref name="mode"/>: it belongs to whoever runs the thread.
    /// <paramref name="path"/> and <paramref name="what"/> name it in errors.
    /// </summary>
    public static SafeFileHandle CreateExclusive(SafeFileHandle directory, string name, UnixFileMode mode, string path, string what)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Descriptor(Openat(directory, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (uint)mode), path, "create a file in the directory of", what);
    }

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> inside <paramref name="directory"/>, replacing what is
    /// at <paramref name="to"/> only if the kernel lets the thread's credentials do so.
    /// </summary>
    public static void RenameWithin(SafeFileHandle directory, string from, string to, string path, string what)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (Renameat(directory, from, to) != 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), path, "replace", what);
        }
    }

    /// <summary>Removes <paramref name="name"/> from <paramref name="directory"/> (not a directory); false if it could not.</summary>
    public static bool UnlinkWithin(SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return Unlinkat(directory, name, 0) == 0;
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
        return dirMode < 0 || mode < 0 || (dirMode & S_ISVTX) == 0 || owner == caller.Uid || dirOwner == caller.Uid;
    }

    private static (int Mode, uint Owner) ModeAndOwner(SafeFileHandle directory, string name, int flags) =>
        Statx(directory, name, flags, STATX_TYPE | STATX_MODE | STATX_UID, out var found) ? (found.Mode, found.Uid) : (-1, 0);

    /// <summary>Removes <paramref name="path"/> (not a directory) with the thread's credentials; false if it could not.</summary>
    public static bool Unlink(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Unlinkat(null, path, 0) == 0;
    }

    /// <summary>What is at <paramref name="name"/> in <paramref name="directory"/> (a symbolic link is not followed).</summary>
    public static HostFileType TypeOf(SafeFileHandle directory, string name)
    {
        ArgumentNullException.ThrowIfNull(directory);
        return TypeOf(ModeOf(directory, name, AT_SYMLINK_NOFOLLOW));
    }

    /// <summary>What <paramref name="path"/> is (a symbolic link in its last component is not followed).</summary>
    public static HostFileType TypeOf(string path) => TypeOf(ModeOf(null, path, AT_SYMLINK_NOFOLLOW));

    /// <summary>What the open descriptor <paramref name="handle"/> is.</summary>
    public static HostFileType TypeOf(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return TypeOf(ModeOf(handle, "", AT_EMPTY_PATH));
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
                if (Unlinkat(null, path, 0) != 0)
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

        return LinuxCalls.ListenUnix(path, 16, out var step) ?? throw Failure(Marshal.GetLastPInvokeError(), path, step switch
        {
            "socket" => "create a socket for",
            "bind" => "bind",
            _ => "listen on",
        }, what);
    }

    /// <summary>A refusal that is not an errno: <c>E_ACCESSDENIED</c> naming <paramref name="what"/>, the path and the caller.</summary>
    private static HcsException Refusal(string path, string verb, string what, string reason)
    {
        var who = HostCaller.Current is { } caller ? caller.ToString() : "the service";
        var quoted = path.Length > 256 ? path[..256] + $"…({path.Length} chars)" : path;
        return new HcsException(HResults.E_ACCESSDENIED,
            result: ResultError.From(HResults.E_ACCESSDENIED, $"{what}: {who} may not {verb} '{quoted}': {reason}", "hcs.host"));
    }

    private static HostFileType TypeOf(int mode) => mode < 0 ? HostFileType.Missing : (mode & S_IFMT) switch
    {
        S_IFREG => HostFileType.Regular,
        S_IFDIR => HostFileType.Directory,
        S_IFSOCK => HostFileType.Socket,
        S_IFBLK => HostFileType.BlockDevice,
        _ => HostFileType.Other,
    };

    /// <summary>The file type and mode bits (<c>stx_mode</c>), or -1 when statx fails.</summary>
    private static int ModeOf(SafeFileHandle? directory, string name, int flags) =>
        Statx(directory, name, flags, STATX_TYPE, out var found) ? found.Mode : -1;
}
