// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.IO.Pipelines;
using Google.Protobuf;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;

namespace Hcs.Client;

/// <summary>
/// The stdio transport of one process on hcsd: one <c>ProcessStdio</c> stream per process. Stdout and stderr are
/// copied into bounded pipes (back-pressure reaches the process); stdin writes are chunks on the stream
/// (<see cref="RemoteStdinStream"/>). hcsd answers a stdin <c>sync</c> chunk once every byte sent before it is in the
/// process, and says with a stdin eof when stdin is closed.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The sync gate lives as long as the process handle; it owns no unmanaged resource.")]
internal sealed class RemoteStdio
{
    private const long StdioBuffer = 1024 * 1024;
    private readonly RemoteSession _session;
    private readonly ulong _handle;
    private readonly Pipe? _stdout;
    private readonly Pipe? _stderr;
    private readonly RemoteStdinStream? _stdin;
    private readonly TaskCompletionSource _stdinClosed = new(TaskCreationOptions.RunContinuationsAsynchronously); // hcsd wrote all stdin and closed it
    private readonly SemaphoreSlim _syncGate = new(1, 1); // one stdin sync at a time
    private TaskCompletionSource? _synced; // the sync in flight: hcsd wrote every byte sent before it
    private volatile bool _ended;
    private AsyncDuplexStreamingCall<StdioChunk, StdioChunk>? _call;

    public RemoteStdio(RemoteSession session, ulong handle, bool hasStdin, bool hasStdout, bool hasStderr)
    {
        _session = session;
        _handle = handle;
        var options = new PipeOptions(pauseWriterThreshold: StdioBuffer, resumeWriterThreshold: StdioBuffer / 2, useSynchronizationContext: false);
        _stdout = hasStdout ? new Pipe(options) : null;
        _stderr = hasStderr ? new Pipe(options) : null;
        _stdin = hasStdin ? new RemoteStdinStream(this) : null;
        Streams = new ProcessStdio(_stdin, _stdout?.Reader.AsStream(), _stderr?.Reader.AsStream());
    }

    /// <summary>The streams the process handle offers.</summary>
    public ProcessStdio Streams { get; }

    /// <summary>Whether the process has a stdin.</summary>
    public bool HasStdin => _stdin is not null;

    /// <summary>Opens the stdio stream and starts copying stdout/stderr into the pipes.</summary>
    public async Task AttachAsync()
    {
        var headers = await _session.HeadersAsync().ConfigureAwait(false);
        _call = _session.Rpc.ProcessStdio(new CallOptions(headers));
        await _call.RequestStream.WriteAsync(new StdioChunk { Handle = _handle }).ConfigureAwait(false);
        _ = Task.Run(() => PumpOutputAsync(_call));
    }

    /// <summary>Sends one stdin chunk; <paramref name="eof"/> also ends the request stream.</summary>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, bool eof, CancellationToken cancellationToken, bool sync = false)
    {
        if (_call is null)
        {
            throw new IOException("stdin is not attached");
        }

        try
        {
            await _call.RequestStream.WriteAsync(new StdioChunk { Stream = StdioStream.Stdin, Data = ByteString.CopyFrom(data.Span), Eof = eof, Sync = sync }, cancellationToken)
                .ConfigureAwait(false);
            if (eof)
            {
                await _call.RequestStream.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (RpcException e)
        {
            throw new IOException("the process's stdin is closed", e);
        }
        catch (InvalidOperationException e)
        {
            throw new IOException("the process's stdin is closed", e);
        }
    }

    /// <summary>
    /// Waits until hcsd has written every stdin byte sent so far into the process (or stdin is closed, or the stdio stream
    /// ended, when nothing more can arrive).
    /// </summary>
    public async Task SyncStdinAsync(CancellationToken cancellationToken)
    {
        await _syncGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var synced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _synced, synced);
            if (_ended || _stdin is null || !await _stdin.TrySendSyncAsync(cancellationToken).ConfigureAwait(false))
            {
                await _stdinClosed.Task.WaitAsync(cancellationToken).ConfigureAwait(false); // closed by its owner: wait for its end
                return;
            }

            await synced.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _syncGate.Release();
        }
    }

    private async Task PumpOutputAsync(AsyncDuplexStreamingCall<StdioChunk, StdioChunk> call)
    {
        try
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                var chunk = call.ResponseStream.Current;
                if (chunk.Stream == StdioStream.Stdin)
                {
                    if (chunk.Sync)
                    {
                        Volatile.Read(ref _synced)?.TrySetResult();
                    }

                    if (chunk.Eof)
                    {
                        _stdinClosed.TrySetResult();
                    }

                    continue;
                }

                var pipe = chunk.Stream == StdioStream.Stdout ? _stdout : chunk.Stream == StdioStream.Stderr ? _stderr : null;
                if (pipe is null)
                {
                    continue;
                }

                if (!chunk.Data.IsEmpty)
                {
                    var flushed = await pipe.Writer.WriteAsync(chunk.Data.Memory).ConfigureAwait(false);
                    if (flushed.IsCompleted)
                    {
                        continue; // the reader gave up: drop the rest of this stream
                    }
                }

                if (chunk.Eof)
                {
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is RpcException or IOException or OperationCanceledException or InvalidOperationException)
        {
            // The service went away: the streams end here.
        }
        finally
        {
            _ended = true;
            _stdinClosed.TrySetResult(); // the stream ended: nothing more of stdin can reach the process
            Volatile.Read(ref _synced)?.TrySetResult();
            if (_stdout is not null)
            {
                await _stdout.Writer.CompleteAsync().ConfigureAwait(false);
            }

            if (_stderr is not null)
            {
                await _stderr.Writer.CompleteAsync().ConfigureAwait(false);
            }

            call.Dispose();
        }
    }
}
