// Copyright (c) hcs contributors. Licensed under the MIT licence.

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

    /// <summary>The socket's mode: owner and group may connect, nobody else. It has this mode before anyone can reach it.</summary>
    public UnixFileMode SocketMode { get; init; } = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>What one client can make the daemon hold (outbox, calls in flight, queue) and the open timeout.</summary>
    public DaemonLimits Limits { get; init; } = new();

    /// <summary>
    /// How long a listener found on the socket path at start has to answer as an hcsd (open a session) before it is
    /// taken for a foreign or hung listener and replaced (default 5 s).
    /// </summary>
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Serves an <see cref="IComputeService"/> over gRPC on a Unix socket (Kestrel, HTTP/2 only). Each connection's
/// peer is identified with <c>SO_PEERCRED</c>; sessions, handles and events are mapped by
/// <see cref="ComputeServiceAdapter"/>. <see cref="StopAsync"/> is the graceful stop: session streams end (clients
/// see a service disconnect), handles are left to the engine so systems keep running.
/// </summary>
/// <remarks>
/// The socket is never reachable with a wider mode than <see cref="DaemonOptions.SocketMode"/>, whatever the umask: it
/// is bound inside a new private directory (0700) next to its path, given its mode and group there, listened on, and
/// only then renamed into place (<see cref="HcsdSocket"/>). A listener already on the path is asked to open a session:
/// one that answers as hcsd makes the start fail; anything else (a stale file, a foreign or hung listener) is logged
/// with who held it and replaced by the rename, so it can never make a restart loop.
/// </remarks>
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

    /// <summary>What each open session holds now (outbox, calls in flight, queue) and the most it has held.</summary>
    public IReadOnlyList<DaemonSessionStatistics> Sessions => _adapter.Sessions;

    /// <summary>Calls of <paramref name="uid"/> running now across its sessions, and the most there have been at once.</summary>
    public (int Running, int Peak) CallsInFlight(uint uid) => _adapter.CallsOf(uid);

    /// <summary>The sessions <paramref name="uid"/> has open (<see cref="DaemonLimits.MaxSessionsPerUid"/>).</summary>
    public int SessionsOf(uint uid) => _adapter.SessionsOf(uid);

    /// <summary>The connections <paramref name="uid"/> has open (<see cref="DaemonLimits.MaxConnectionsPerUid"/>).</summary>
    public int ConnectionsOf(uint uid) => _adapter.ConnectionsOf(uid);

    /// <summary>
    /// Checks what is on the socket path (refusing if another hcsd answers there), binds the socket privately with its
    /// mode and group, starts serving, and puts the socket in place.
    /// </summary>
    public static async Task<DaemonServer> StartAsync(IComputeService service, DaemonOptions options, ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(options);
        options.Limits.Validate();
        var socket = Path.GetFullPath(options.Socket);
        var gid = options.SocketGroup is { } group ? ResolveGroup(group) : (uint?)null;
        var logs = loggerFactory ?? NullLoggerFactory.Instance;
        var log = logs.CreateLogger("hcsd");
        await HcsdSocket.CheckPathAsync(socket, options.ProbeTimeout, log, cancellationToken).ConfigureAwait(false);
        using var staged = HcsdSocket.Stage(socket, options.SocketMode, gid, options.SocketGroup);

        // The empty builder: no configuration files (the slim builder's appsettings.json with reload-on-change put an
        // inotify watch on every directory under the working directory, / under systemd), no environment or
        // command-line configuration, no HTTPS; Kestrel's core and routing only. hcsd is configured by its command line.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(logs);
        var peers = new PeerTable(options.Limits.MaxConnectionsPerUid);
        var adapter = new ComputeServiceAdapter(service, peers, log, options.Limits);
        builder.Services.AddSingleton(adapter);
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = Protocol.WireLimits.MaxMessageSize;
            o.MaxSendMessageSize = Protocol.WireLimits.MaxMessageSize;
        });
        // Kestrel listens on the socket bound in the private directory (it takes it over and closes it at stop).
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = _ => staged.Take());
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.MaxStreamsPerConnection = 4096;
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.AddServerHeader = false;
            kestrel.Listen(staged.EndPoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(peers.Middleware);
            });
        });
        var app = builder.Build();
        app.MapGrpcService<ComputeServiceAdapter>();
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            staged.Publish();
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new DaemonServer(app, adapter, socket);
    }

    /// <summary>
    /// Removes the socket (if it is still this daemon's), ends every session stream, stops accepting, waits (bounded)
    /// for calls in flight.
    /// </summary>
    public async Task StopAsync(TimeSpan? grace = null)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        HcsdSocket.RemoveIfOurs(Socket);
        _adapter.Stop();
        using var timeout = new CancellationTokenSource(grace ?? TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A group name (looked up through NSS: <see cref="HostAccounts.GroupByName"/>) or a numeric gid.</summary>
    internal static uint ResolveGroup(string group)
    {
        if (uint.TryParse(group, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var gid))
        {
            return gid;
        }

        return HostAccounts.GroupByName(group)?.Gid ?? throw new ArgumentException($"no group '{group}' on this host", nameof(group));
    }
}
