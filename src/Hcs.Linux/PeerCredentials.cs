// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using System.Net.Sockets;

namespace Hcs.Linux;

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
