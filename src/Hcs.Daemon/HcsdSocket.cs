// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Hcs.Protocol;
using Microsoft.Extensions.Logging;

namespace Hcs.Daemon;

/// <summary>
/// hcsd's listening socket, made so that it is never reachable with a wider mode than intended, whatever the umask,
/// and so that whatever is found on its path at start is told apart: another hcsd (refuse to start) from a stale file
/// or a foreign or hung listener (replace it, saying who held it).
/// </summary>
/// <remarks>
/// <para><b>Staging.</b> <c>bind(2)</c> creates the socket file with the process umask, and a socket is connectable
/// as soon as it listens, so binding at the final path and chmodding afterwards leaves a window in which anyone the
/// umask lets in can connect (and keep the connection). Instead the socket is bound inside a directory created for
/// it with <c>mkdir(2)</c> mode 0700 next to the final path (the same filesystem; nobody but hcsd's uid can reach
/// anything inside), given its mode and group there, listened on (by Kestrel, which takes it over), and then renamed to
/// the final path: the path only ever names a socket that already has its mode and group. <c>rename(2)</c> replaces
/// whatever was at the path atomically, so there is no moment without a socket either.</para>
/// <para><b>A listener on the path.</b> A path that refuses connections is stale. A listener is asked, over the hcs
/// protocol, to open a session within <see cref="DaemonOptions.ProbeTimeout"/>: an hcsd answers (<c>Opened</c>, or a
/// refusal carrying an hcs error) and the start fails; anything else — a QEMU chardev that took over the path, any
/// foreign program, an hcsd too hung to answer — is logged with its <c>SO_PEERCRED</c> pid, uid and command name and
/// replaced. A foreign listener never stops hcsd from starting, so it can never make a restart loop.</para>
/// </remarks>
internal static partial class HcsdSocket
{
    private const int Backlog = 512;

    /// <summary>Refuses a path another hcsd serves; logs and leaves (to be replaced) anything else found there.</summary>
    public static async Task CheckPathAsync(string socket, TimeSpan probeTimeout, ILogger log, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(socket)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        RemoveStaleStagingDirectories(socket);
        var existing = new FileInfo(socket);
        if (!existing.Exists && existing.LinkTarget is null)
        {
            if (Directory.Exists(socket))
            {
                throw new IOException($"the socket path {socket} is a directory");
            }

            return;
        }

        PeerCredentials holder;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                Log.StaleSocket(log, socket, e.SocketErrorCode);
                return;
            }

            holder = PeerCredentials.Of(probe);
        }

        var command = CommandOf(holder.Pid);
        if (await AnswersAsHcsdAsync(socket, probeTimeout, cancellationToken).ConfigureAwait(false))
        {
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"another service is listening on {socket} and answers as hcsd (pid {holder.Pid} '{command}', uid {holder.Uid}); stop it first"));
        }

        Log.ForeignListener(log, socket, holder.Pid, command, holder.Uid, probeTimeout.TotalSeconds);
    }

    /// <summary>Creates the private directory and binds a socket in it with <paramref name="mode"/> and group <paramref name="gid"/>.</summary>
    public static Staged Stage(string socket, UnixFileMode mode, uint? gid, string? groupName)
    {
        // Eight random hex digits from Guid.NewGuid (the kernel's random source; RandomNumberGenerator would load OpenSSL
        // into hcsd at start for these four bytes: 20 ms and 3.7 MB resident).
        var directory = Path.Combine(Path.GetDirectoryName(socket)!, $".{Path.GetFileName(socket)}.{Guid.NewGuid().ToString("N")[..8]}");
        if (LinuxCalls.Mkdir(directory, 0x1C0 /* 0700 */) != 0)
        {
            var errno = LinuxCalls.Errno;
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"cannot create the private directory {directory} for the socket (errno {errno})"));
        }

        var staged = new Staged(socket, directory);
        try
        {
            staged.Bind(mode, gid, groupName);
            return staged;
        }
        catch
        {
            staged.Dispose();
            throw;
        }
    }

    /// <summary>Removes <paramref name="socket"/> if it is this process's listener (or a dead socket), never another's.</summary>
    public static void RemoveIfOurs(string socket)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socket));
            if (PeerCredentials.Of(probe).Pid != Environment.ProcessId)
            {
                return; // a later hcsd (or something else) holds the path now
            }
        }
        catch (SocketException)
        {
            // Nothing listens there: a dead socket, ours or not.
        }

        try
        {
            File.Delete(socket);
        }
        catch (IOException)
        {
            // Gone already.
        }
    }

    /// <summary>True if the listener at <paramref name="socket"/> speaks the hcs protocol: it opens a session, or refuses it with an hcs error.</summary>
    private static async Task<bool> AnswersAsHcsdAsync(string socket, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var channel = GrpcChannel.ForAddress("http://hcsd", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct).ConfigureAwait(false);
                        return new NetworkStream(connection, ownsSocket: true);
                    }
                    catch
                    {
                        connection.Dispose();
                        throw;
                    }
                },
            },
            MaxReceiveMessageSize = WireLimits.MaxMessageSize,
        });
        try
        {
            using var call = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: deadline.Token);
            await call.RequestStream.WriteAsync(new ClientFrame { Open = new OpenSessionRequest { ClientName = "hcsd (start-up check)", ClientPid = Environment.ProcessId } },
                deadline.Token).ConfigureAwait(false);
            var answered = await call.ResponseStream.MoveNext(deadline.Token).ConfigureAwait(false)
                && call.ResponseStream.Current.Messages.FirstOrDefault()?.KindCase == SessionMessage.KindOneofCase.Opened;
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            return answered;
        }
        catch (RpcException e) when (e.Trailers.Get(WireErrors.Trailer) is not null)
        {
            return true; // an hcsd refusing the session (e.g. stopping) is an hcsd
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException or HttpRequestException or InvalidOperationException)
        {
            return false;
        }
    }

    private static string CommandOf(int pid)
    {
        try
        {
            return File.ReadAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}/comm")).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    /// <summary>Private directories a start that died half-way left next to the socket (only ones holding nothing but the staged socket).</summary>
    private static void RemoveStaleStagingDirectories(string socket)
    {
        foreach (var stale in Directory.EnumerateDirectories(Path.GetDirectoryName(socket)!, $".{Path.GetFileName(socket)}.*"))
        {
            try
            {
                if (new DirectoryInfo(stale).LinkTarget is null && Directory.EnumerateFileSystemEntries(stale).All(e => Path.GetFileName(e) == "s"))
                {
                    Directory.Delete(stale, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not ours to clean.
            }
        }
    }

    /// <summary>A socket bound in its private directory, waiting for Kestrel to take it and for <see cref="Publish"/>.</summary>
    public sealed class Staged : IDisposable
    {
        private readonly string _socket;
        private readonly string _directory;
        private Socket? _listener;
        private bool _published;

        public Staged(string socket, string directory)
        {
            _socket = socket;
            _directory = directory;
            EndPoint = new UnixDomainSocketEndPoint(StagedPath);
        }

        /// <summary>Where the socket is bound until it is published.</summary>
        public UnixDomainSocketEndPoint EndPoint { get; }

        private string StagedPath => Path.Combine(_directory, "s");

        /// <summary>Hands the bound socket over (once): its taker listens on it and closes it.</summary>
        public Socket Take() => Interlocked.Exchange(ref _listener, null) ?? throw new InvalidOperationException("the staged socket was taken already");

        /// <summary>Renames the socket, listening with its mode and group already, to its path (replacing whatever was there).</summary>
        public void Publish()
        {
            if (LinuxCalls.Rename(StagedPath, _socket) != 0)
            {
                var errno = LinuxCalls.Errno;
                throw new IOException(string.Create(CultureInfo.InvariantCulture, $"cannot put the socket in place at {_socket} (rename errno {errno})"));
            }

            _published = true;
        }

        /// <summary>Removes the private directory (and the socket if it was never published).</summary>
        public void Dispose()
        {
            _listener?.Dispose();
            try
            {
                if (!_published)
                {
                    File.Delete(StagedPath);
                }

                Directory.Delete(_directory);
            }
            catch (IOException)
            {
                // Left for the next start to clean.
            }
        }

        internal void Bind(UnixFileMode mode, uint? gid, string? groupName)
        {
            if (System.Text.Encoding.UTF8.GetByteCount(StagedPath) > 107)
            {
                throw new IOException($"the socket path {_socket} is too long to stage next to it ({StagedPath} exceeds 107 bytes)");
            }

            var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                listener.Bind(EndPoint);
                File.SetUnixFileMode(StagedPath, mode);
                if (gid is { } g && LinuxCalls.Chown(StagedPath, uint.MaxValue, g) != 0)
                {
                    var errno = LinuxCalls.Errno;
                    throw new IOException(string.Create(CultureInfo.InvariantCulture, $"cannot give the socket {_socket} to group {groupName} (errno {errno})"));
                }

                listener.Listen(Backlog);
            }
            catch
            {
                listener.Dispose();
                throw;
            }

            _listener = listener;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 110, Level = LogLevel.Information, Message = "{Socket}: a stale socket ({Error}) is replaced")]
        public static partial void StaleSocket(ILogger logger, string socket, SocketError error);

        [LoggerMessage(EventId = 111, Level = LogLevel.Warning,
            Message = "{Socket} was held by pid {Pid} '{Command}' (uid {Uid}), which did not answer as hcsd within {Seconds} s; it is replaced")]
        public static partial void ForeignListener(ILogger logger, string socket, int pid, string command, uint uid, double seconds);
    }
}
