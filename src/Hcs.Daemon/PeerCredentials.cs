// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Hcs.Daemon;

/// <summary>Who is at the other end of a Unix socket connection, as the kernel says (<c>SO_PEERCRED</c>).</summary>
/// <param name="Pid">The peer's process id when it connected.</param>
/// <param name="Uid">The peer's effective uid when it connected.</param>
/// <param name="Gid">The peer's effective gid when it connected.</param>
public sealed record PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;
    private const int SoPeerGroups = 59;

    /// <summary>The peer's supplementary groups when it connected (<c>SO_PEERGROUPS</c>).</summary>
    public IReadOnlyList<uint> Groups { get; init; } = [];

    /// <summary>Reads <c>SO_PEERCRED</c> of a connected Unix socket (struct ucred: pid, uid, gid).</summary>
    public static PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> ucred = stackalloc byte[12];
        var length = socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred);
        if (length != 12)
        {
            throw new SocketException((int)SocketError.ProtocolNotSupported);
        }

        return new PeerCredentials(BinaryPrimitives.ReadInt32LittleEndian(ucred), BinaryPrimitives.ReadUInt32LittleEndian(ucred[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(ucred[8..]))
        {
            Groups = GroupsOf(socket),
        };
    }

    /// <summary>Reads <c>SO_PEERGROUPS</c> (an array of gid_t); the kernel caps a process at 65,536 groups.</summary>
    private static uint[] GroupsOf(Socket socket)
    {
        foreach (var count in (ReadOnlySpan<int>)[256, 65536])
        {
            var buffer = new byte[count * sizeof(uint)];
            int length;
            try
            {
                length = socket.GetRawSocketOption(SolSocket, SoPeerGroups, buffer);
            }
            catch (SocketException) when (count < 65536)
            {
                continue; // ERANGE: more groups than this buffer holds
            }

            var groups = new uint[length / sizeof(uint)];
            for (var i = 0; i < groups.Length; i++)
            {
                groups[i] = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i * sizeof(uint)));
            }

            return groups;
        }

        return [];
    }
}

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
