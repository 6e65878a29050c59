// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Cryptography;
using Hcs.Linux;

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The stdio pumps over a real socket pair: the test holds the caller's end (as a C program would hold the descriptor),
/// a <see cref="Pipe"/> stands in for the process's stream.
/// </summary>
public sealed class StdioPumpTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (Socket Ours, Socket Theirs) Pair()
    {
        Assert.True(SocketPair.TryCreate(out var ours, out var theirs), $"socketpair: errno {LinuxCalls.Errno}");
        return (StdioBridge.Wrap(ours), StdioBridge.Wrap(theirs));
    }

    private static (int Ours, Socket Theirs) RawPair()
    {
        Assert.True(SocketPair.TryCreate(out var ours, out var theirs), $"socketpair: errno {LinuxCalls.Errno}");
        return (ours, StdioBridge.Wrap(theirs));
    }

    [Fact]
    public async Task Output_IsCopiedExactly_ThenTheCallerReadsEof_AndTheStreamIsClosed()
    {
        var (ours, theirs) = RawPair();
        using var caller = theirs;
        var process = new Pipe();
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        var output = new DisposeTracking(process.Reader.AsStream());
        var pump = StdioPumps.FromProcessAsync(output, ours);

        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                await process.Writer.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)), Ct);
            }

            await process.Writer.CompleteAsync();
        }, Ct);

        using var received = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = await caller.ReceiveAsync(buffer, SocketFlags.None, Ct)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        await writer;
        await pump.WaitAsync(Ct);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received.ToArray()));
        Assert.Equal(data.Length, received.Length);
        Assert.True(output.Disposed); // the pump released the stream
    }

    [Fact]
    public async Task Output_WhenTheCallerClosesItsEnd_StopsWithoutSignal_AndReleasesTheStream()
    {
        var (ours, theirs) = RawPair();
        var process = new Pipe(new PipeOptions(pauseWriterThreshold: 1024 * 1024, resumeWriterThreshold: 512 * 1024));
        var pump = StdioPumps.FromProcessAsync(process.Reader.AsStream(), ours);

        // An endless producer: it only stops when the pump stops reading and completes the reader.
        var producer = Task.Run(async () =>
        {
            var chunk = new byte[32 * 1024];
            while (!(await process.Writer.WriteAsync(chunk, Ct)).IsCompleted)
            {
            }
        }, Ct);

        var buffer = new byte[4096];
        Assert.True(await theirs.ReceiveAsync(buffer, SocketFlags.None, Ct) > 0);
        theirs.Dispose(); // the caller closes its descriptor with data still coming

        await pump.WaitAsync(Ct);
        await producer.WaitAsync(Ct);
    }

    [Fact]
    public async Task Input_IsCopiedExactly_AndTheCallersCloseClosesTheStream()
    {
        var (ours, theirs) = Pair();
        var process = new Pipe();
        var pump = StdioPumps.ToProcessAsync(ours, process.Writer.AsStream());
        var data = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);

        var reader = Task.Run(async () =>
        {
            using var received = new MemoryStream();
            await process.Reader.AsStream().CopyToAsync(received, Ct); // ends only when the pump closed the stream
            return received.ToArray();
        }, Ct);

        using (theirs)
        {
            for (var offset = 0; offset < data.Length;)
            {
                offset += await theirs.SendAsync(data.AsMemory(offset, Math.Min(50_000, data.Length - offset)), SocketFlags.None, Ct);
            }
        }

        Assert.Equal(SHA256.HashData(data), SHA256.HashData(await reader));
        await pump.WaitAsync(Ct);
    }

    [Fact]
    public async Task Input_WhenTheProcessStdinIsGone_ClosesTheSocket_SoTheCallerGetsEpipe()
    {
        var (ours, theirs) = Pair();
        using var caller = theirs;
        var pump = StdioPumps.ToProcessAsync(ours, new FailingStream()); // the process has exited: writes fail

        await caller.SendAsync(new byte[] { 1, 2, 3 }, SocketFlags.None, Ct);
        await pump.WaitAsync(Ct);
        var e = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                await caller.SendAsync(new byte[4096], SocketFlags.None, Ct); // MSG_NOSIGNAL: EPIPE, never SIGPIPE
            }
        });
        Assert.Contains(e.SocketErrorCode, (SocketError[])[SocketError.Shutdown, SocketError.ConnectionReset]);
    }

    [Fact]
    public unsafe void HandOut_GivesEachStreamOnce_AndAbsentStreamsAreInvalidHandleValue()
    {
        var stdout = new Pipe();
        var information = new Hcs.Client.HcsProcessInformation(42, null, stdout.Reader.AsStream(), null);
        StdioBridge.ProcessInformationNative first, second;
        Assert.Equal(0, StdioBridge.Store(&first, information));
        Assert.Equal(0, StdioBridge.Store(&second, information));

        Assert.Equal(42u, first.ProcessId);
        Assert.Equal(-1, first.StdInput);
        Assert.Equal(-1, first.StdError);
        Assert.True(first.StdOutput > 2);
        Assert.Equal(42u, second.ProcessId);
        Assert.Equal(-1, second.StdOutput);
        Assert.True(SocketPair.Close((int)first.StdOutput));
    }

    private sealed class DisposeTracking(Stream inner) : Stream
    {
        public bool Disposed { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class FailingStream : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new IOException("the process's stdin is closed");
    }
}
