// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;

namespace Hcs.Bench;

/// <summary>A minimal RFB 3.8 client: version, security type None, ClientInit, ServerInit — then it hangs up.</summary>
internal static class Rfb
{
    /// <summary>Opens one console session on <paramref name="endpoint"/> and closes it (QEMU emits VNC_CONNECTED, VNC_INITIALIZED, VNC_DISCONNECTED).</summary>
    public static async Task SessionAsync(string endpoint, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint), cancellationToken);
        await using var stream = new NetworkStream(socket);
        var buffer = new byte[256];
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 12), cancellationToken); // "RFB 003.008\n"
        await stream.WriteAsync("RFB 003.008\n"u8.ToArray(), cancellationToken);
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 1), cancellationToken);
        await stream.ReadExactlyAsync(buffer.AsMemory(0, buffer[0]), cancellationToken);
        await stream.WriteAsync(new byte[] { 1 }, cancellationToken); // None
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 4), cancellationToken); // SecurityResult
        await stream.WriteAsync(new byte[] { 1 }, cancellationToken); // ClientInit: shared
        await stream.ReadExactlyAsync(buffer.AsMemory(0, 24), cancellationToken); // ServerInit
        var nameLength = (buffer[20] << 24) | (buffer[21] << 16) | (buffer[22] << 8) | buffer[23];
        await stream.ReadExactlyAsync(new byte[nameLength], cancellationToken);
    }
}
