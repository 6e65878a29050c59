// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Linux;

/// <summary>
/// File and mount system calls by file descriptor, as thin wrappers: <c>openat2</c> (path resolution inside a
/// container's root), <c>openat</c>, <c>mkdirat</c>, <c>statx</c>, <c>readlinkat</c>, the new mount API
/// (<c>open_tree</c>, <c>mount_setattr</c>, <c>move_mount</c>), <c>mount</c> and <c>umount2</c>, and the path calls
/// the backends and the daemon make (<c>mkdir</c>, <c>rename</c>, <c>chown</c>, <c>mkfifo</c>). Every call returns
/// -1 (or null) and leaves errno in <see cref="Errno"/> on failure; the callers turn errno into their own errors.
/// </summary>
public static partial class LinuxCalls
{
#pragma warning disable CS1591 // the constants carry the kernel's names and values (see the man pages)
    private const long SysOpenTree = 428, SysMoveMount = 429, SysOpenat2 = 437, SysMountSetattr = 442;

    public const int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, O_PATH = 0x200000;

    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_EACCESS = 0x200, AT_EMPTY_PATH = 0x1000, AT_RECURSIVE = 0x8000;

    public const ulong RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04, RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10;

    public const int OPEN_TREE_CLONE = 1, MOVE_MOUNT_F_EMPTY_PATH = 0x04, MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    public const ulong MOUNT_ATTR_RDONLY = 0x01;

    public const int MNT_DETACH = 2, UMOUNT_NOFOLLOW = 8;

    public const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8, STATX_SIZE = 0x200, STATX_MNT_ID = 0x1000;

    public const ulong STATX_ATTR_MOUNT_ROOT = 0x2000;

    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, ECHILD = 10, ERANGE = 34, EAGAIN = 11, EACCES = 13, EBUSY = 16, EEXIST = 17, ENOTDIR = 20, EINVAL = 22,
        ELOOP = 40, ENOSYS = 38, EXDEV = 18, E2BIG = 7, EADDRINUSE = 98;

    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFREG = 0x8000, S_IFLNK = 0xA000, S_IFIFO = 0x1000, S_IFCHR = 0x2000,
        S_IFBLK = 0x6000, S_IFSOCK = 0xC000, S_ISVTX = 0x200;

    public const int R_OK = 4, W_OK = 2, X_OK = 1;

#pragma warning restore CS1591

    /// <summary><c>O_DIRECTORY</c> (its value depends on the architecture).</summary>
    public static int O_DIRECTORY => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    /// <summary><c>O_NOFOLLOW</c> (its value depends on the architecture).</summary>
    public static int O_NOFOLLOW => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    /// <summary>The errno of the last failed call on this thread.</summary>
    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>The kernel's text for <paramref name="errno"/>.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>A descriptor as a <see cref="SafeFileHandle"/> (owned), or null with errno set.</summary>
    public static SafeFileHandle? Handle(long fd) => fd < 0 ? null : new SafeFileHandle((nint)fd, ownsHandle: true);

    /// <summary><c>openat2(dirfd, path, {flags, mode, resolve})</c>.</summary>
    public static long Openat2(SafeFileHandle? dir, string path, int flags, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Mode = 0, Resolve = resolve };
        var dirfd = dir?.DangerousGetHandle() ?? AT_FDCWD;
        while (true)
        {
            var result = syscall_openat2(SysOpenat2, dirfd, path, ref how, (nuint)Marshal.SizeOf<OpenHow>());
            if (result >= 0 || Errno is not (EINTR or EAGAIN))
            {
                return result;
            }
        }
    }

    /// <summary><c>openat(dirfd, path, flags)</c>.</summary>
    public static long Openat(SafeFileHandle? dir, string path, int flags) =>
        Retry(() => openat(dir?.DangerousGetHandle() ?? AT_FDCWD, path, flags, 0));

    /// <summary><c>mkdirat(dirfd, name, mode)</c>.</summary>
    public static int Mkdirat(SafeFileHandle dir, string name, uint mode) => mkdirat(dir.DangerousGetHandle(), name, mode);

    /// <summary><c>readlinkat(dirfd, name)</c>: the link's text, or null with errno set.</summary>
    public static string? Readlinkat(SafeFileHandle dir, string name)
    {
        var buffer = new byte[4096];
        var length = readlinkat(dir.DangerousGetHandle(), name, buffer, buffer.Length);
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, (int)length);
    }

    /// <summary><c>statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, mask)</c> of a descriptor.</summary>
    public static bool Statx(SafeFileHandle fd, uint mask, out StatxResult result) =>
        Statx(fd ?? throw new ArgumentNullException(nameof(fd)), "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, mask, out result);

    /// <summary>
    /// <c>statx(dirfd, name, flags, mask)</c>: <paramref name="name"/> relative to <paramref name="dir"/> (the working
    /// directory when null); false with errno set when it fails.
    /// </summary>
    public static unsafe bool Statx(SafeFileHandle? dir, string name, int flags, uint mask, out StatxResult result)
    {
        ArgumentNullException.ThrowIfNull(name);

        // struct statx is 256 bytes on every architecture.
        var buffer = stackalloc byte[256];
        var done = dir is null ? statx(AT_FDCWD, name, flags, mask, buffer) : statx(dir, name, flags, mask, buffer);
        if (done != 0)
        {
            result = default;
            return false;
        }

        result = new StatxResult(*(ulong*)(buffer + 8), *(ushort*)(buffer + 28), *(ulong*)(buffer + 40), *(ulong*)(buffer + 56),
            *(ulong*)(buffer + 144))
        {
            Uid = *(uint*)(buffer + 20),
        };
        return true;
    }

    /// <summary><c>open_tree(fd, "", flags | AT_EMPTY_PATH | OPEN_TREE_CLOEXEC)</c>.</summary>
    public static long OpenTree(SafeFileHandle fd, int flags) =>
        syscall_open_tree(SysOpenTree, fd.DangerousGetHandle(), "", flags | AT_EMPTY_PATH | O_CLOEXEC);

    /// <summary><c>mount_setattr(fd, "", AT_EMPTY_PATH | flags, {attr_set = set})</c>.</summary>
    public static long MountSetattr(SafeFileHandle fd, int flags, ulong set)
    {
        var attr = new MountAttr { AttrSet = set };
        return syscall_mount_setattr(SysMountSetattr, fd.DangerousGetHandle(), "", flags | AT_EMPTY_PATH, ref attr, (nuint)Marshal.SizeOf<MountAttr>());
    }

    /// <summary><c>move_mount(from, "", to, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)</c>.</summary>
    public static long MoveMount(SafeFileHandle from, SafeFileHandle to) =>
        syscall_move_mount(SysMoveMount, from.DangerousGetHandle(), "", to.DangerousGetHandle(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);

    /// <summary><c>umount2(path, flags)</c>.</summary>
    public static int Umount2(string path, int flags) => umount2(path, flags);

    /// <summary><c>mount(source, target, type, 0, data)</c>.</summary>
    public static int Mount(string source, string target, string type, string data) => mount(source, target, type, 0, data);

    private static long Retry(Func<long> call)
    {
        while (true)
        {
            var result = call();
            if (result >= 0 || Errno is not (EINTR or EAGAIN))
            {
                return result;
            }
        }
    }

    /// <summary>What <c>statx</c> reads: attributes, mode (type and permissions), size, attributes known, mount id.</summary>
    public readonly record struct StatxResult(ulong Attributes, ushort Mode, ulong Size, ulong AttributesMask, ulong MountId)
    {
        /// <summary>The file type bits (<c>S_IFMT</c>).</summary>
        public int Type => Mode & S_IFMT;

        /// <summary>The owner (<c>stx_uid</c>; asked for with <c>STATX_UID</c>).</summary>
        public uint Uid { get; init; }
    }

    /// <summary><c>mkdir(path, mode)</c>.</summary>
    public static int Mkdir(string path, uint mode) => mkdir(path, mode);

    /// <summary><c>rename(from, to)</c>: replaces what is at <paramref name="to"/> atomically.</summary>
    public static int Rename(string from, string to) => rename(from, to);

    /// <summary>
    /// <c>chown(path, owner, group)</c>; <see cref="uint.MaxValue"/> (-1) leaves the owner or the group as it is. The
    /// one ownership change hcs makes on the host.
    /// </summary>
    public static int Chown(string path, uint owner, uint group) => chown(path, owner, group);

    /// <summary><c>mkfifo(path, mode)</c>: a FIFO with exactly <paramref name="mode"/> less the umask.</summary>
    public static int MakeFifo(string path, uint mode) => mkfifo(path, mode);

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall_openat2(long number, nint dirfd, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall_open_tree(long number, nint dirfd, string path, int flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall_mount_setattr(long number, nint dirfd, string path, int flags, ref MountAttr attr, nuint size);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall_move_mount(long number, nint fromDirfd, string fromPath, nint toDirfd, string toPath, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int openat(nint dirfd, string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdirat(nint dirfd, string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint readlinkat(nint dirfd, string path, byte[] buffer, nint size);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(SafeFileHandle dirfd, string path, int flags, uint mask, byte* buffer);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int umount2(string target, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkdir(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rename(string from, string to);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chown(string path, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount(string source, string target, string type, ulong flags, string data);
}
