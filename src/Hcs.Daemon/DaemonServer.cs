// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hcs.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hcs.Daemon;

/// <summary>Where and how <see cref="DaemonServer"/> listens.</summary>
public sealed record DaemonOptions
{
    /// <summary>The Unix socket path (its directory is created, mode 0755, if missing).</summary>
    public required string Socket { get; init; }

    /// <summary>The group that may connect (name or numeric gid), or null to keep the daemon's group.</summary>
    public string? SocketGroup { get; init; }

    /// <summary>The socket's mode: owner and group may connect, nobody else.</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
}

/// <summary>
/// Serves an <see cref="IComputeService"/> over gRPC on a Unix socket (Kestrel, HTTP/2 only). Each connection's
/// peer is identified with <c>SO_PEERCRED</c>; sessions, handles and events are mapped by
/// <see cref="ComputeServiceAdapter"/>. <see cref="StopAsync"/> is the graceful stop: session streams end (clients
/// see a service disconnect), handles are left to the engine so systems keep running.
/// </summary>
public sealed partial class DaemonServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ComputeServiceAdapter _adapter;
    private int _stopped;

    private DaemonServer(WebApplication app, ComputeServiceAdapter adapter, string socket)
    {
        _app = app;
        _adapter = adapter;
        Socket = socket;
    }

    /// <summary>The socket path.</summary>
    public string Socket { get; }

    /// <summary>Sessions open now.</summary>
    public int SessionCount => _adapter.SessionCount;

    /// <summary>Binds the socket (refusing if another daemon answers on it), applies its mode and group, and starts serving.</summary>
    public static async Task<DaemonServer> StartAsync(IComputeService service, DaemonOptions options, ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        var socket = Path.GetFullPath(options.Socket);
        PrepareSocketPath(socket);
        var gid = options.SocketGroup is { } group ? ResolveGroup(group) : (uint?)null;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        builder.Services.AddSingleton(logs);
        var peers = new PeerTable();
        var adapter = new ComputeServiceAdapter(service, peers, logs.CreateLogger("hcsd"));
        builder.Services.AddSingleton(adapter);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = 64 * 1024 * 1024;
            o.MaxSendMessageSize = 64 * 1024 * 1024;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 4096;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(socket, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(peers.Middleware);
            });
        });
        var app = builder.Build();
        app.MapGrpcService<ComputeServiceAdapter>();
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(socket, options.SocketMode);
        if (gid is { } g && Chown(socket, uint.MaxValue, g) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            await app.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"cannot give the socket {socket} to group {options.SocketGroup} (errno {errno})");
        }

        return new DaemonServer(app, adapter, socket);
    }

    /// <summary>Ends every session stream, stops accepting, waits (bounded) for calls in flight, removes the socket.</summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _adapter.Stop();
        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        File.Delete(Socket);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void PrepareSocketPath(string socket)
    {
        var directory = Path.GetDirectoryName(socket)!;
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        if (!File.Exists(socket) && !Directory.Exists(socket))
        {
            return;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socket));
            throw new IOException($"another service is listening on {socket}");
        }
        catch (SocketException)
        {
            File.Delete(socket); // stale: a daemon that died left it
        }
    }

    /// <summary>A group name or numeric gid, looked up in /etc/group.</summary>
    internal static uint ResolveGroup(string group)
    {
        if (uint.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var gid))
        {
            return gid;
        }

        foreach (var line in File.ReadLines("/etc/group"))
        {
            var fields = line.Split(':');
            if (fields.Length >= 3 && fields[0] == group && uint.TryParse(fields[2], System.Globalization.CultureInfo.InvariantCulture, out gid))
            {
                return gid;
            }
        }

        throw new ArgumentException($"no group '{group}' in /etc/group", nameof(group));
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, uint owner, uint group);
}
