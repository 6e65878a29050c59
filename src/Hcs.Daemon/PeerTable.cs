// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Hcs.Daemon;

/// <summary>
/// The credentials of every open connection, by Kestrel connection id (which is also
/// <c>HttpContext.Connection.Id</c> of every call on it). Filled by <see cref="Middleware"/> when a connection opens.
/// </summary>
internal sealed class PeerTable(int maxConnectionsPerUid)
{
    private readonly ConcurrentDictionary<string, PeerCredentials> _peers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<uint, StrongBox<int>> _connections = new();

    public PeerCredentials? Find(string connectionId) => _peers.TryGetValue(connectionId, out var peer) ? peer : null;

    /// <summary>The connections <paramref name="uid"/> has open (<see cref="DaemonLimits.MaxConnectionsPerUid"/>).</summary>
    public int ConnectionsOf(uint uid) => _connections.TryGetValue(uid, out var count) ? Volatile.Read(ref count.Value) : 0;

    /// <summary>
    /// Connection middleware: reads the peer's credentials; a connection whose peer cannot be read, or whose uid
    /// already has <see cref="DaemonLimits.MaxConnectionsPerUid"/> connections open, is closed.
    /// </summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is null)
        {
            connection.Abort(new ConnectionAbortedException("hcsd: no socket behind the connection, so no peer credentials"));
            return;
        }

        var peer = PeerCredentials.Of(socket);
        var count = _connections.GetOrAdd(peer.Uid, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref count.Value) > maxConnectionsPerUid)
        {
            Interlocked.Decrement(ref count.Value);
            connection.Abort(new ConnectionAbortedException($"hcsd: uid {peer.Uid} already has {maxConnectionsPerUid} connections open (--max-connections-per-uid)"));
            return;
        }

        _peers[connection.ConnectionId] = peer;
        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            _peers.TryRemove(connection.ConnectionId, out _);
            Interlocked.Decrement(ref count.Value);
        }
    };
}
