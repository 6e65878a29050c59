// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Threading.Channels;
using Hcs.Shim.Protocol;

namespace Hcs.Shim;

/// <summary>
/// One client of the control socket: lines are written in the order they were queued (<see cref="Send"/> never
/// blocks, so it may be called under the reaper's lock: that is how a reply precedes the events of its pid).
/// </summary>
internal sealed class ControlConnection
{
    private readonly Socket _socket;
    private readonly Channel<byte[]> _out = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    public ControlConnection(Socket socket)
    {
        _socket = socket;
        _writer = WriteLoopAsync();
    }

    /// <summary>True once the client's hello was answered with the same version (read and set by the connection's reader only).</summary>
    public bool Greeted { get; set; }

    /// <summary>Queues one JSON line; dropped once the connection is closed.</summary>
    public void Send(byte[] line) => _out.Writer.TryWrite(line);

    /// <summary>Calls <paramref name="onLine"/> for each line received, until EOF or an error.</summary>
    public async Task ReadLinesAsync(Action<ReadOnlyMemory<byte>> onLine)
    {
        byte[] buffer = new byte[16 * 1024];
        int used = 0;
        try
        {
            while (true)
            {
                if (used == buffer.Length)
                {
                    if (buffer.Length >= ShimProtocol.MaxLineLength)
                    {
                        Native.Log("control socket: a request line longer than 1 MiB; closing the connection");
                        return;
                    }

                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                int n = await _socket.ReceiveAsync(buffer.AsMemory(used), SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                int start = 0;
                int scanFrom = used;
                used += n;
                int nl;
                while ((nl = Array.IndexOf(buffer, (byte)'\n', scanFrom, used - scanFrom)) >= 0)
                {
                    if (nl > start)
                    {
                        onLine(buffer.AsMemory(start, nl - start));
                    }

                    start = nl + 1;
                    scanFrom = start;
                }

                if (start > 0)
                {
                    Buffer.BlockCopy(buffer, start, buffer, 0, used - start);
                    used -= start;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // closed
        }
    }

    /// <summary>Writes what is queued (up to <paramref name="timeout"/>), then closes the socket.</summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        _out.Writer.TryComplete();
        try
        {
            await _writer.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Native.Log("control socket: the client did not read the last lines");
        }

        Abort();
    }

    /// <summary>Closes at once (a new client replaced this one, or the client went away).</summary>
    public void Abort()
    {
        _out.Writer.TryComplete();
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // already closed
        }

        _socket.Dispose();
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            while (await _out.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (_out.Reader.TryRead(out byte[]? line))
                {
                    await _socket.SendAsync(line, SocketFlags.None).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // the client went away: later lines are dropped (exit records keep them)
            _out.Writer.TryComplete();
        }
    }
}
