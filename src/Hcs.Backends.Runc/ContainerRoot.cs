// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;
using static Hcs.Linux.LinuxCalls;

namespace Hcs.Backends.Runc;

/// <summary>
/// A container's root file system as the host sees it (the overlay under the runtime directory), for every path hcs
/// itself resolves inside it: the target of a mapped directory added at run time (and its unmount), the user databases
/// read for <c>User</c>. The workload can write anything into its root, including symbolic links such as
/// <c>/m → /etc</c>, so a path is never joined to the root as a string: it is resolved with symbolic links (absolute,
/// relative, <c>..</c>) interpreted relative to the root, which they cannot leave — <c>openat2</c> with
/// <c>RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS</c> from a descriptor of the root (Linux 5.6), or, where the kernel
/// has no <c>openat2</c>, an equivalent walk one component at a time (<c>O_PATH | O_NOFOLLOW</c>,
/// <c>readlinkat</c>, at most 40 links). What is found is used by descriptor from then on. Missing directories are
/// made one at a time with <c>mkdirat</c> relative to the parent's descriptor, and each is opened without following a
/// symbolic link, so a link swapped in meanwhile is an error rather than a way out.
/// </summary>
internal sealed class ContainerRoot : IDisposable
{
    /// <summary>Most symbolic links one resolution follows (the kernel's own limit).</summary>
    public const int MaxLinks = 40;

    /// <summary>Largest user database (<c>/etc/passwd</c>, <c>/etc/group</c>) read for <c>User</c>: 4 MiB.</summary>
    public const int MaxDatabaseBytes = 4 << 20;

    private readonly SafeFileHandle _root;
    private readonly bool _openat2;

    private ContainerRoot(SafeFileHandle root, string hostPath, bool openat2)
    {
        _root = root;
        HostPath = hostPath;
        _openat2 = openat2;
    }

    /// <summary>The root's path on the host (only for messages).</summary>
    public string HostPath { get; }

    /// <summary>Opens the root at <paramref name="rootfs"/> (a directory hcs made; its last component is not followed).</summary>
    /// <param name="rootfs">The container's root on the host.</param>
    /// <param name="useOpenat2">False makes every resolution use the component walk (tests of the fallback).</param>
    public static ContainerRoot Open(string rootfs, bool useOpenat2 = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootfs);
        var handle = Handle(Openat(null, rootfs, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC))
            ?? throw Failure(Errno, rootfs, "open the container's root", "hcs.runc");
        return new ContainerRoot(handle, rootfs, useOpenat2 && s_openat2Available);
    }

    private static readonly bool s_openat2Available = ProbeOpenat2();

    private static bool ProbeOpenat2()
    {
        using var probe = Handle(Openat2(null, "/", O_PATH | O_CLOEXEC, RESOLVE_NO_MAGICLINKS));
        return probe is not null || Errno != ENOSYS;
    }

    /// <inheritdoc />
    public void Dispose() => _root.Dispose();

    /// <summary>
    /// Resolves <paramref name="containerPath"/> inside the root and opens it with <paramref name="flags"/> (plus
    /// <c>O_CLOEXEC</c>; with <c>O_NOFOLLOW</c> a final symbolic link is <c>ELOOP</c>); null with
    /// <paramref name="errno"/> when it cannot.
    /// </summary>
    public SafeFileHandle? TryResolve(string containerPath, int flags, out int errno)
    {
        ArgumentNullException.ThrowIfNull(containerPath);
        var relative = containerPath.TrimStart('/');
        if (relative.Length == 0)
        {
            relative = ".";
        }

        var handle = _openat2
            ? Handle(Openat2(_root, relative, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS))
            : Walk(relative, flags | O_CLOEXEC);
        errno = handle is null ? Errno : 0;
        return handle;
    }

    /// <summary>
    /// The directory <paramref name="containerPath"/> inside the root, made (with its missing parents, mode 0755) when
    /// it does not exist; an <c>O_PATH</c> descriptor. A component that is not a directory, or a symbolic link that
    /// leads nowhere, is <c>E_INVALIDARG</c> naming <paramref name="what"/>.
    /// </summary>
    public SafeFileHandle MakeDirectory(string containerPath, string what)
    {
        var directoryFlags = O_PATH | O_DIRECTORY;
        var found = TryResolve(containerPath, directoryFlags, out var errno);
        if (found is not null)
        {
            return found;
        }

        if (errno != ENOENT)
        {
            throw Failure(errno, containerPath, "resolve", what);
        }

        var components = containerPath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        SafeFileHandle? parent = null;
        var existing = components.Length - 1;
        for (; existing > 0; existing--)
        {
            parent = TryResolve(string.Join('/', components[..existing]), directoryFlags, out errno);
            if (parent is not null)
            {
                break;
            }

            if (errno != ENOENT)
            {
                throw Failure(errno, containerPath, "resolve", what);
            }
        }

        parent ??= TryResolve("/", directoryFlags, out errno) ?? throw Failure(errno, containerPath, "resolve", what);
        try
        {
            for (var i = existing; i < components.Length; i++)
            {
                var name = components[i];
                if (name is "." or "..")
                {
                    throw Failure(EINVAL, containerPath, "create", what);
                }

                if (Mkdirat(parent, name, 0x1ED) != 0 && Errno != EEXIST)
                {
                    throw Failure(Errno, containerPath, "create", what);
                }

                // Never follow what is there now: a symbolic link (dangling, or swapped in since mkdirat) is an error.
                var next = Handle(Openat(parent, name, directoryFlags | O_NOFOLLOW | O_CLOEXEC))
                    ?? throw Failure(Errno is ENOTDIR or ELOOP ? ELOOP : Errno, containerPath, "create", what);
                parent.Dispose();
                parent = next;
            }

            var result = parent;
            parent = null;
            return result;
        }
        finally
        {
            parent?.Dispose();
        }
    }

    /// <summary>
    /// The bytes of the regular file <paramref name="containerPath"/>, or null when it does not exist. It is opened
    /// without following a final symbolic link and refused (<c>E_INVALIDARG</c> naming <paramref name="what"/>) when it
    /// is a symbolic link, a FIFO, a device, a socket or a directory, or larger than <paramref name="maxBytes"/>; a FIFO
    /// or device is never opened for reading, so nothing can block.
    /// </summary>
    public byte[]? ReadRegularFile(string containerPath, int maxBytes, string what)
    {
        using var path = TryResolve(containerPath, O_PATH | O_NOFOLLOW, out var errno);
        if (path is null)
        {
            return errno == ENOENT ? null : throw Failure(errno, containerPath, "read", what);
        }

        if (!Statx(path, STATX_TYPE | STATX_SIZE, out var stat))
        {
            throw Failure(Errno, containerPath, "read", what);
        }

        if (stat.Type != S_IFREG)
        {
            throw new HcsException(HResults.E_INVALIDARG, result: ResultError.From(HResults.E_INVALIDARG,
                $"{what}: the container's {Quote(containerPath)} is {TypeName(stat.Type)}, not a regular file", "hcs.runc"));
        }

        if (stat.Size > (ulong)maxBytes)
        {
            throw TooLarge(containerPath, maxBytes, what);
        }

        // Reopen the inode found (never the path again) to read it; it is a regular file, so nothing blocks.
        using var file = Handle(Openat(null, "/proc/self/fd/" + path.DangerousGetHandle().ToString(CultureInfo.InvariantCulture),
            O_RDONLY | O_NONBLOCK | O_CLOEXEC)) ?? throw Failure(Errno, containerPath, "read", what);
        var buffer = new byte[(int)stat.Size + 1];
        var total = 0;
        while (total < buffer.Length)
        {
            var read = RandomAccess.Read(file, buffer.AsSpan(total), total);
            if (read == 0)
            {
                break;
            }

            total += read;
            if (total == buffer.Length && total <= maxBytes)
            {
                Array.Resize(ref buffer, Math.Min(maxBytes + 1, buffer.Length * 2));
            }
        }

        return total > maxBytes ? throw TooLarge(containerPath, maxBytes, what) : buffer[..total];
    }

    /// <summary>
    /// Unmounts the mount at <paramref name="containerPath"/> inside the root (resolved as everything else is, so a
    /// link swapped in since the mount cannot redirect the unmount to the host), by descriptor
    /// (<c>umount2("/proc/self/fd/N")</c>), detaching it when busy. Nothing mounted there, or the root itself, is left
    /// alone: false.
    /// </summary>
    public bool Unmount(string containerPath)
    {
        using var point = TryResolve(containerPath, O_PATH | O_DIRECTORY, out _);
        if (point is null || !Statx(point, STATX_MNT_ID, out var stat) || !Statx(_root, STATX_MNT_ID, out var root)
            || (stat.AttributesMask & STATX_ATTR_MOUNT_ROOT) == 0 || (stat.Attributes & STATX_ATTR_MOUNT_ROOT) == 0 || stat.MountId == root.MountId)
        {
            return false;
        }

        var self = "/proc/self/fd/" + point.DangerousGetHandle().ToString(CultureInfo.InvariantCulture);
        if (Umount2(self, 0) == 0)
        {
            return true;
        }

        return Errno == EBUSY && Umount2(self, MNT_DETACH) == 0
            ? true
            : throw Failure(Errno, containerPath, "unmount", "hcs.runc");
    }

    /// <summary>The securejoin-equivalent resolution where the kernel has no <c>openat2</c>.</summary>
    private SafeFileHandle? Walk(string relative, int finalFlags)
    {
        var pending = new List<string>(relative.Split('/', StringSplitOptions.RemoveEmptyEntries));
        var chain = new Stack<SafeFileHandle>();
        var links = 0;
        try
        {
            chain.Push(Handle(Openat(_root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC))!);
            if (pending.Count == 0)
            {
                return Handle(Openat(chain.Peek(), ".", finalFlags));
            }

            while (pending.Count > 0)
            {
                var name = pending[0];
                pending.RemoveAt(0);
                var last = pending.Count == 0;
                if (name == ".")
                {
                    if (last)
                    {
                        return Handle(Openat(chain.Peek(), ".", finalFlags));
                    }

                    continue;
                }

                if (name == "..")
                {
                    if (chain.Count > 1)
                    {
                        chain.Pop().Dispose();
                    }

                    if (last)
                    {
                        return Handle(Openat(chain.Peek(), ".", finalFlags));
                    }

                    continue;
                }

                using var step = Handle(Openat(chain.Peek(), name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
                if (step is null)
                {
                    return null;
                }

                if (!Statx(step, STATX_TYPE, out var stat))
                {
                    return null;
                }

                var follow = !last || (finalFlags & O_NOFOLLOW) == 0;
                if (stat.Type == S_IFLNK && follow)
                {
                    if (++links > MaxLinks)
                    {
                        Marshal(ELOOP);
                        return null;
                    }

                    var target = Readlinkat(step, "");
                    if (target is null)
                    {
                        return null;
                    }

                    if (target.StartsWith('/'))
                    {
                        while (chain.Count > 1)
                        {
                            chain.Pop().Dispose();
                        }
                    }

                    pending.InsertRange(0, target.Split('/', StringSplitOptions.RemoveEmptyEntries));
                    if (pending.Count == 0)
                    {
                        return Handle(Openat(chain.Peek(), ".", finalFlags));
                    }

                    continue;
                }

                if (last)
                {
                    // The final component, opened as asked and never through a link swapped in since the check.
                    return Handle(Openat(chain.Peek(), name, finalFlags | O_NOFOLLOW));
                }

                if (stat.Type != S_IFDIR)
                {
                    Marshal(ENOTDIR);
                    return null;
                }

                chain.Push(Handle(Openat(chain.Peek(), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ?? throw Failure(Errno, relative, "resolve", "hcs.runc"));
            }

            return null;
        }
        finally
        {
            while (chain.Count > 0)
            {
                chain.Pop().Dispose();
            }
        }
    }

    private static void Marshal(int errno) => System.Runtime.InteropServices.Marshal.SetLastPInvokeError(errno);

    /// <summary>
    /// The error for a container path hcs could not use: <c>ERROR_PATH_NOT_FOUND</c> (ENOENT), <c>E_ACCESSDENIED</c>
    /// (EACCES, EPERM), <c>ERROR_NOT_SUPPORTED</c> (ENOSYS), <c>E_INVALIDARG</c> for one that is not a directory or is a
    /// symbolic link that leads nowhere (ENOTDIR, ELOOP, EEXIST, EINVAL), else <c>E_FAIL</c>; the message names
    /// <paramref name="what"/> and the path.
    /// </summary>
    public static HcsException Failure(int errno, string containerPath, string verb, string what)
    {
        var hr = errno switch
        {
            ENOENT => HResults.ERROR_PATH_NOT_FOUND,
            EACCES or EPERM => HResults.E_ACCESSDENIED,
            ENOSYS => HResults.ERROR_NOT_SUPPORTED,
            ENOTDIR or ELOOP or EEXIST or EINVAL or EXDEV => HResults.E_INVALIDARG,
            _ => HResults.E_FAIL,
        };
        var why = errno switch
        {
            ELOOP => "a symbolic link there leads nowhere inside the container, or was swapped in",
            ENOTDIR => "a component is not a directory",
            _ => Describe(errno),
        };
        return new HcsException(hr, result: ResultError.From(hr, $"{what}: cannot {verb} {Quote(containerPath)} inside the container: {why}", "hcs.runc"));
    }

    private static HcsException TooLarge(string containerPath, int maxBytes, string what) =>
        new(HResults.E_INVALIDARG, result: ResultError.From(HResults.E_INVALIDARG,
            string.Create(CultureInfo.InvariantCulture, $"{what}: the container's {Quote(containerPath)} is larger than {maxBytes} bytes"), "hcs.runc"));

    private static string Quote(string path) => path.Length > 256 ? $"'{path[..256]}…' ({path.Length} chars)" : $"'{path}'";

    private static string TypeName(int type) => type switch
    {
        S_IFLNK => "a symbolic link",
        S_IFIFO => "a FIFO",
        S_IFCHR => "a character device",
        S_IFBLK => "a block device",
        S_IFSOCK => "a socket",
        S_IFDIR => "a directory",
        _ => "not a regular file",
    };
}
