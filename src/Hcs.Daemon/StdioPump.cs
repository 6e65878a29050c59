// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Google.Protobuf;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;

namespace Hcs.Daemon;

/// <summary>
/// One <c>ProcessStdio</c> call's copying, once the adapter has found the session and claimed the process's stdio:
/// stdout and stderr go out in chunks of at most <see cref="ChunkSize"/> bytes, each ending with an eof chunk; what
/// the client sends is written to stdin in order. A <c>sync</c> chunk is answered once every byte sent before it is in
/// the process, and the input's end (the client's eof, or stdin closed) is answered with a stdin eof, so that a close
/// the client makes on the session stream cannot overtake the data.
/// </summary>
internal sealed class StdioPump : IDisposable
{
    /// <summary>The most bytes of one output chunk.</summary>
    public const int ChunkSize = 64 * 1024;

    private readonly ProcessStdio _stdio;
    private readonly IAsyncStreamReader<StdioChunk> _input;
    private readonly IServerStreamWriter<StdioChunk> _output;
    private readonly SemaphoreSlim _writeGate = new(1, 1); // one write on the response stream at a time
    private readonly CancellationToken _cancellationToken;

    private StdioPump(ProcessStdio stdio, IAsyncStreamReader<StdioChunk> input, IServerStreamWriter<StdioChunk> output, CancellationToken cancellationToken)
    {
        _stdio = stdio;
        _input = input;
        _output = output;
        _cancellationToken = cancellationToken;
    }

    /// <summary>
    /// Copies until both output streams ended (or the client went away); the input copy is stopped and awaited before
    /// this returns, since no read may outlive the call.
    /// </summary>
    public static async Task RunAsync(ProcessStdio stdio, IAsyncStreamReader<StdioChunk> input, IServerStreamWriter<StdioChunk> output, CancellationToken cancellationToken)
    {
        using var pump = new StdioPump(stdio, input, output, cancellationToken);
        await pump.RunAsync().ConfigureAwait(false);
    }

    /// <summary>Releases the write gate (every copy has ended when <see cref="RunAsync(ProcessStdio, IAsyncStreamReader{StdioChunk}, IServerStreamWriter{StdioChunk}, CancellationToken)"/> returns).</summary>
    public void Dispose() => _writeGate.Dispose();

    private async Task RunAsync()
    {
        using var inputStop = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken);
        var input = CopyInAsync(inputStop.Token);
        try
        {
            await Task.WhenAll(CopyOutAsync(_stdio.StdOut, StdioStream.Stdout), CopyOutAsync(_stdio.StdErr, StdioStream.Stderr)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The client went away.
        }
        finally
        {
            // No read may outlive the call: Kestrel reuses the stream's request pipe for a later call on the connection,
            // which would then find "reading is already in progress". Stop the input copy and wait for it.
            await inputStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await input.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException)
            {
                // The client went away, or the stream is already complete (the connection is closing).
            }
        }
    }

    private async Task SendAsync(StdioChunk chunk)
    {
        await _writeGate.WaitAsync(_cancellationToken).ConfigureAwait(false);
        try
        {
            await _output.WriteAsync(chunk, _cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private async Task CopyOutAsync(Stream? source, StdioStream which)
    {
        if (source is null)
        {
            return;
        }

        var buffer = new byte[ChunkSize];
        int n;
        while ((n = await source.ReadAsync(buffer, _cancellationToken).ConfigureAwait(false)) > 0)
        {
            await SendAsync(new StdioChunk { Stream = which, Data = ByteString.CopyFrom(buffer, 0, n) }).ConfigureAwait(false);
        }

        await SendAsync(new StdioChunk { Stream = which, Eof = true }).ConfigureAwait(false);
    }

    private async Task CopyInAsync(CancellationToken stop)
    {
        var sink = _stdio.StdIn;
        try
        {
            while (await _input.MoveNext(stop).ConfigureAwait(false))
            {
                var chunk = _input.Current;
                if (sink is not null && !chunk.Data.IsEmpty)
                {
                    await sink.WriteAsync(chunk.Data.Memory, stop).ConfigureAwait(false);
                    await sink.FlushAsync(stop).ConfigureAwait(false);
                }

                if (chunk.Sync)
                {
                    await SendAsync(new StdioChunk { Stream = StdioStream.Stdin, Sync = true }).ConfigureAwait(false);
                }

                if (chunk.Eof)
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // The process closed its stdin (exited): what the client still sends is dropped, as a pipe would.
        }
        finally
        {
            if (sink is not null)
            {
                try
                {
                    await sink.DisposeAsync().ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // The process is gone: its stdin is closed either way.
                }
            }
        }

        // Everything the client sent before its eof is in the process's stdin, and stdin is closed: say so, so that a
        // close the client makes on the session stream (Modify CloseHandle) cannot overtake the data.
        try
        {
            await SendAsync(new StdioChunk { Stream = StdioStream.Stdin, Eof = true }).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or OperationCanceledException)
        {
            // The output streams already ended (the process exited) and the call with them: the client sees that.
        }
    }
}
