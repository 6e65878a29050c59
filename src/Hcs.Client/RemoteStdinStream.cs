// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client;

/// <summary>The process's stdin: each write is one chunk on the stdio stream; disposing it closes stdin.</summary>
internal sealed class RemoteStdinStream(RemoteStdio owner) : Stream
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _closed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_closed;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Blocking.Run(WriteAsync(buffer.AsMemory(offset, count)).AsTask());

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            for (var offset = 0; offset < buffer.Length; offset += 64 * 1024)
            {
                await owner.WriteStdinAsync(buffer.Slice(offset, Math.Min(64 * 1024, buffer.Length - offset)), false, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Asks hcsd to answer once every byte written so far is in the process; false if stdin is closed.</summary>
    public async Task<bool> TrySendSyncAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed)
            {
                return false;
            }

            await owner.WriteStdinAsync(ReadOnlyMemory<byte>.Empty, false, cancellationToken, sync: true).ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false; // the stream broke: its end completes the wait
        }
        finally
        {
            _gate.Release();
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async Task CloseAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_closed)
            {
                _closed = true;
                try
                {
                    await owner.WriteStdinAsync(ReadOnlyMemory<byte>.Empty, true, CancellationToken.None).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    // Already closed on the other side.
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Blocking.Run(CloseAsync());
        }

        base.Dispose(disposing);
    }
}
