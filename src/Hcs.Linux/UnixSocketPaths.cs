// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Linux;

/// <summary>
/// Unix sockets at paths of any length. A socket address holds at most 107 bytes of path (<c>sun_path</c>), and there
/// is no <c>bindat</c>/<c>connectat</c>; a process-wide <c>chdir</c> is no answer in a multi-threaded service. So the
/// directory of the path is opened (<c>O_PATH</c>) and the socket is bound or connected as
/// <c>/proc/self/fd/N/NAME</c>: at most about 40 bytes for the names hcs uses, and resolved through the descriptor
/// (the directory opened a moment before), not by walking the long path a second time. The descriptor is closed as
/// soon as the call returns: a bound or connected socket does not need it. Every path goes this way, long or short,
/// so the one code path is the tested one.
/// </summary>
public static class UnixSocketPaths
{
    private const string ProcSelfFd = "/proc/self/fd/";

    /// <summary>The longest file name (last component) the <c>/proc/self/fd/N/</c> form leaves room for.</summary>
    public const int MaxName = LinuxCalls.MaxUnixSocketPath - 32;

    /// <summary>Connects <paramref name="socket"/> (a new <c>AF_UNIX</c> socket) to the socket file at <paramref name="path"/>.</summary>
    /// <exception cref="SocketException">The connection failed (a missing directory is <see cref="SocketError.AddressNotAvailable"/>, as a missing socket file is).</exception>
    public static async ValueTask ConnectAsync(Socket socket, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        using var directory = OpenDirectory(path, out var name);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(Short(directory, name)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Connects <paramref name="socket"/> to <paramref name="path"/>, blocking; see <see cref="ConnectAsync(Socket, string, CancellationToken)"/>.</summary>
    public static void Connect(Socket socket, string path)
    {
        ArgumentNullException.ThrowIfNull(socket);
        using var directory = OpenDirectory(path, out var name);
        socket.Connect(new UnixDomainSocketEndPoint(Short(directory, name)));
    }

    /// <summary>A new Unix stream socket connected to <paramref name="path"/>.</summary>
    public static async Task<Socket> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await ConnectAsync(socket, path, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A new Unix stream socket (close-on-exec) bound to <paramref name="path"/> (which must not exist) and listening
    /// with <paramref name="backlog"/>. It is bound by a native call, so disposing it removes nothing (.NET's
    /// <c>Socket.Bind</c> would delete its <c>/proc/self/fd/N/NAME</c> name on dispose, by then another file or none):
    /// the caller removes the socket file.
    /// </summary>
    /// <exception cref="SocketException">A step failed; the message names it and the path.</exception>
    public static Socket Listen(string path, int backlog)
    {
        using var directory = OpenDirectory(path, out var name);
        return LinuxCalls.ListenUnix(Short(directory, name), backlog, out var step)
            ?? throw Failure(LinuxCalls.Errno, $"cannot {step} the Unix socket '{path}'");
    }

    private static SafeFileHandle OpenDirectory(string path, out string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        name = Path.GetFileName(path);
        var directory = Path.GetDirectoryName(path);
        if (name.Length == 0 || name is "." or ".." || Encoding.UTF8.GetByteCount(name) > MaxName)
        {
            throw new ArgumentException($"'{path}': a Unix socket's file name must be 1 to {MaxName} bytes", nameof(path));
        }

        var fd = LinuxCalls.Openat(null, string.IsNullOrEmpty(directory) ? "." : directory,
            LinuxCalls.O_PATH | LinuxCalls.O_DIRECTORY | LinuxCalls.O_CLOEXEC, 0);
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Failure(LinuxCalls.Errno, $"cannot open the directory of the Unix socket '{path}'");
    }

    // SAFETY: the name is used while the caller holds the handle (a using scope around the bind or connect).
    private static string Short(SafeFileHandle directory, string name) =>
        string.Create(CultureInfo.InvariantCulture, $"{ProcSelfFd}{directory.DangerousGetHandle()}/{name}");

    /// <summary>errno as a <see cref="SocketException"/>: a missing file or directory is <see cref="SocketError.AddressNotAvailable"/>, as .NET reports it for connect.</summary>
    private static SocketException Failure(int errno, string what)
    {
        var error = errno switch
        {
            LinuxCalls.ENOENT or LinuxCalls.ENOTDIR => SocketError.AddressNotAvailable,
            LinuxCalls.EACCES or LinuxCalls.EPERM => SocketError.AccessDenied,
            LinuxCalls.EADDRINUSE => SocketError.AddressAlreadyInUse,
            _ => SocketError.SocketError,
        };
        return new SocketException((int)error, $"{what}: {LinuxCalls.Describe(errno)}");
    }
}
