// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Linux;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;
using static Hcs.Linux.LinuxCalls;

namespace Hcs.Engine.Backends;

/// <summary>How a host path named by a client is opened on its behalf (<see cref="HostFiles.OpenAsync"/>).</summary>
public enum HostOpen
{
    /// <summary>A directory the caller may list and enter (read + search), e.g. a read-only mapped directory.</summary>
    ReadDirectory,

    /// <summary>A directory the caller may also write (read + write + search), e.g. a read-write mapped directory.</summary>
    ReadWriteDirectory,

    /// <summary>A file (or device) the caller may read, e.g. a read-only disk image.</summary>
    ReadFile,

    /// <summary>A file (or device) the caller may read and write, e.g. a disk image.</summary>
    ReadWriteFile,
}

/// <summary>
/// Host paths named by a client, used with that client's file system credentials. For a <see cref="HostCaller"/>
/// (a non-root client of hcsd) the work runs on a thread of its own with the caller's file system credentials
/// (<see cref="HostCredentials.RunAsync{T}"/> in Hcs.Linux, which also makes the system calls), so the kernel itself
/// checks each open, create, unlink and bind as it would for the caller: there is no check-then-use window, and what
/// is opened is then used by descriptor. For no caller (root, the embedded engine) the work runs as the service.
/// This class is the engine's policy over those calls: who acts (<see cref="HostCaller.Current"/>) and how errno
/// becomes an HCS error.
/// </summary>
public static partial class HostFiles
{

    /// <summary>
    /// Runs <paramref name="work"/> with the file system credentials of <see cref="HostCaller.Current"/> (as the
    /// service when there is none). A service that is not root can act only for callers of its own uid; any other
    /// caller is refused with <c>E_ACCESSDENIED</c>.
    /// </summary>
    public static Task<T> AsCallerAsync<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!ActsForCaller)
        {
            try
            {
                return Task.FromResult(work());
            }
            catch (Exception e)
            {
                return Task.FromException<T>(e);
            }
        }

        var caller = HostCaller.Current!;
        if (HostCredentials.EffectiveUid != 0)
        {
            return Task.FromException<T>(new HcsException(HResults.E_ACCESSDENIED, result: ResultError.From(HResults.E_ACCESSDENIED,
                $"the service runs as uid {HostCredentials.EffectiveUid}, so it cannot act on host paths for {caller}", "hcs.host")));
        }

        return caller.Credentials.RunAsync(work); // the execution context flows: errors name HostCaller.Current
    }

    /// <summary>
    /// Opens <paramref name="path"/> as <see cref="HostCaller.Current"/> would, <paramref name="how"/> says for what;
    /// the descriptor is close-on-exec, and a file is opened non-blocking (a FIFO does not hang the call; reads of a
    /// regular file or a block device are unaffected). A refusal is <c>E_ACCESSDENIED</c>, a missing path <c>ERROR_PATH_NOT_FOUND</c>,
    /// each naming <paramref name="what"/> (the JSON path of the member that named it) and the path.
    /// </summary>
    public static Task<SafeFileHandle> OpenAsync(string path, HostOpen how, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        return AsCallerAsync(() => Open(path, how, what));
    }

    /// <summary>
    /// Opens <paramref name="path"/> with the calling thread's credentials (inside <see cref="AsCallerAsync"/> they are
    /// the caller's) and checks the access <paramref name="how"/> asks for on the descriptor.
    /// </summary>
    public static SafeFileHandle Open(string path, HostOpen how, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (flags, access) = how switch
        {
            HostOpen.ReadDirectory => (O_RDONLY | O_DIRECTORY, R_OK | X_OK),
            HostOpen.ReadWriteDirectory => (O_RDONLY | O_DIRECTORY, R_OK | W_OK | X_OK),
            HostOpen.ReadFile => (O_RDONLY | O_NONBLOCK, R_OK),
            HostOpen.ReadWriteFile => (O_RDWR | O_NONBLOCK, R_OK | W_OK),
            _ => throw new ArgumentOutOfRangeException(nameof(how)),
        };
        var handle = new SafeFileHandle(Openat(null, path, flags | O_CLOEXEC, 0), ownsHandle: true);
        if (handle.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failure(errno, path, how, what);
        }

        if (AccessByDescriptor(handle, access) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failure(errno, path, how, what);
        }

        return handle;
    }

    /// <summary>
    /// The descriptor an <c>open</c>-like call returned, owned; or, when it failed (-1), its errno as
    /// <see cref="Failure(int, string, string, string)"/>.
    /// </summary>
    private static SafeFileHandle Descriptor(int fd, string path, string verb, string what)
    {
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (handle.IsInvalid)
        {
            var errno = Marshal.GetLastPInvokeError();
            handle.Dispose();
            throw Failure(errno, path, verb, what);
        }

        return handle;
    }

    /// <summary>
    /// The error for a host path the caller may not use, or that does not exist: <c>E_ACCESSDENIED</c> for EACCES,
    /// EPERM and ELOOP, <c>ERROR_PATH_NOT_FOUND</c> for ENOENT and ENOTDIR, else <c>E_FAIL</c>; the message names
    /// <paramref name="what"/>, the path and the caller.
    /// </summary>
    public static HcsException Failure(int errno, string path, string verb, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        var who = HostCaller.Current is { } caller ? caller.ToString() : "the service";
        var quoted = path.Length > 256 ? path[..256] + $"…({path.Length} chars)" : path;
        var hr = errno switch
        {
            EACCES or EPERM or ELOOP => HResults.E_ACCESSDENIED,
            ENOENT or ENOTDIR => HResults.ERROR_PATH_NOT_FOUND,
            _ => HResults.E_FAIL,
        };
        var reason = hr == HResults.E_ACCESSDENIED ? $"{who} may not {verb} '{quoted}'" : $"cannot {verb} '{quoted}' for {who}";
        return new HcsException(hr, result: ResultError.From(hr, $"{what}: {reason}: {Marshal.GetPInvokeErrorMessage(errno)}", "hcs.host"));
    }

    private static HcsException Failure(int errno, string path, HostOpen how, string what) => Failure(errno, path, how switch
    {
        HostOpen.ReadDirectory => "read the directory",
        HostOpen.ReadWriteDirectory => "read and write the directory",
        HostOpen.ReadFile => "read",
        _ => "read and write",
    }, what);
}
