// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers;
using System.Net.Sockets;
using Hcs.Linux;

namespace Hcs.ComputeCore;

/// <summary>
/// The copying between a process's managed stdio streams and our ends of the socket pairs whose other ends the C caller
/// holds as file descriptors. One 64 KiB buffer per pump, one chunk in flight: memory stays bounded and back-pressure
/// reaches the writer in both directions (a full socket buffer stalls the stream reads; a slow process stalls the
/// socket reads). Pumps never block the thread that started them (stdin's is asynchronous, each output pump has its own
/// thread). Output is sent with <c>MSG_NOSIGNAL</c>, so a caller that closes its end early makes a send fail with EPIPE
/// and never raises SIGPIPE in the host program, even one that restored SIGPIPE's default action.
/// </summary>
internal static class StdioPumps
{
    /// <summary>The most one pump holds at a time.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Stdin: copies what the caller writes to its descriptor into <paramref name="stdin"/>, flushing each chunk. When the
    /// caller closes its descriptor (EOF on the socket), closes <paramref name="stdin"/>, so the process reads EOF. When
    /// the process's stdin is gone (the process exited), stops and closes the socket: the caller's further writes fail
    /// with EPIPE.
    /// </summary>
    /// <param name="socket">Our end of the pair; the pump owns it and closes it.</param>
    /// <param name="stdin">The process's stdin; the pump owns it and closes it.</param>
    public static async Task ToProcessAsync(Socket socket, Stream stdin)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                int count;
                try
                {
                    count = await socket.ReceiveAsync(buffer.AsMemory(0, ChunkSize), SocketFlags.None).ConfigureAwait(false);
                }
                catch (SocketException)
                {
                    break; // the caller's end broke: as good as EOF
                }

                if (count == 0)
                {
                    break;
                }

                try
                {
                    await stdin.WriteAsync(buffer.AsMemory(0, count)).ConfigureAwait(false);
                    await stdin.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception)
                {
                    break; // the process's stdin is closed (it exited, or the service went away)
                }
            }
        }
        finally
        {
            socket.Dispose();
            await CloseAsync(stdin).ConfigureAwait(false);
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Stdout or stderr: copies <paramref name="output"/> to the caller's descriptor. At the stream's end, shuts the
    /// socket down for sending and closes it, so the caller reads EOF. When the caller has closed its descriptor (a send
    /// fails with EPIPE), stops and closes <paramref name="output"/>: the rest of the stream is dropped, not buffered.
    /// Runs on a thread of its own (a small stack) that blocks in <c>send</c> with <c>MSG_NOSIGNAL</c>, which no
    /// <see cref="Socket"/> send sets on Linux; the returned task completes when the copy has ended.
    /// </summary>
    /// <param name="output">The process's stdout or stderr; the pump owns it and closes it.</param>
    /// <param name="fd">Our end of the pair (blocking); the pump owns it and closes it.</param>
    public static Task FromProcessAsync(Stream output, int fd)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            CopyOut(output, fd);
            done.TrySetResult();
        }, 256 * 1024)
        {
            IsBackground = true,
            Name = "hcs stdio",
        };
        thread.UnsafeStart();
        return done.Task;
    }

    private static void CopyOut(Stream output, int fd)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            while (true)
            {
                int count;
                try
                {
                    count = output.Read(buffer, 0, ChunkSize);
                }
                catch (Exception)
                {
                    break; // the stream broke (the service went away): the caller reads EOF
                }

                if (count == 0)
                {
                    break;
                }

                for (var offset = 0; offset < count;)
                {
                    var sent = SocketPair.Send(fd, buffer.AsSpan(offset, count - offset));
                    if (sent < 0)
                    {
                        return; // EPIPE or ECONNRESET: the caller closed its end
                    }

                    offset += (int)sent;
                }
            }

            SocketPair.ShutdownWrite(fd);
        }
        finally
        {
            SocketPair.Close(fd);
            try
            {
                output.Dispose();
            }
            catch (Exception)
            {
                // Closing a stream whose other side is gone: nothing left to tell anyone.
            }

            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask CloseAsync(Stream stream)
    {
        try
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a stream whose other side is gone: nothing left to tell anyone.
        }
    }
}
