// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Hcs.Shim.Protocol;

namespace Hcs.Backends.Runc;

/// <summary>An error reply of the shim (docs/shim-protocol.md): <see cref="Code"/> is one of <see cref="ShimErrorCodes"/>, or <c>closed</c>.</summary>
internal class ShimErrorException(string code, string message) : Exception(message)
{
    /// <summary>The protocol's error code, or <c>closed</c> when the connection ended before the reply.</summary>
    public string Code { get; } = code;
}

/// <summary>The monitor speaks another version of the shim protocol (<see cref="ShimProtocol.ProtocolVersion"/> is ours).</summary>
/// <param name="monitorVersion">The monitor's version (<see cref="ShimProtocol.PreHelloVersion"/> for one that predates the hello exchange).</param>
internal sealed class ShimVersionException(int monitorVersion)
    : ShimErrorException(ShimErrorCodes.VersionMismatch, ShimProtocol.MismatchMessage(monitorVersion, ShimProtocol.ProtocolVersion))
{
    /// <summary>The monitor's protocol version.</summary>
    public int MonitorVersion { get; } = monitorVersion;
}

/// <summary>
/// The engine's end of a container monitor's control socket (docs/shim-protocol.md): typed requests and replies of
/// <see cref="Hcs.Shim.Protocol"/>, matched by id, and exit events kept per pid (an exit may be read before anyone
/// asks for it, so <see cref="WaitExitAsync"/> works in either order). <see cref="ConnectAsync"/> checks the monitor's
/// protocol version first. <see cref="Closed"/> completes when the shim closes the socket (it exits) or it fails.
/// </summary>
internal sealed class ShimClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<byte[]>> _pending = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<ProcessExit>> _exits = new();
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _initReady = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextId;

    private ShimClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _ = ReadLoopAsync();
    }

    /// <summary>Completes when the shim closed its end (it has exited, or is exiting).</summary>
    public Task Closed => _closed.Task;

    /// <summary>The monitor's answer to the hello of <see cref="ConnectAsync"/>: the init it serves, and whether that init was ready then.</summary>
    public HelloReply Hello { get; private set; } = null!;

    /// <summary>
    /// Connects to the control socket at <paramref name="path"/> and says hello: the monitor must speak
    /// <see cref="ShimProtocol.ProtocolVersion"/>, else <see cref="ShimVersionException"/> (naming both versions).
    /// </summary>
    /// <exception cref="SocketException">Nobody listens there.</exception>
    /// <exception cref="ShimErrorException">The monitor refused or closed the connection.</exception>
    public static async Task<ShimClient> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        ShimClient? client = null;
        try
        {
            // Any length: the runtime root may be longer than a socket address (Hcs.Linux.UnixSocketPaths).
            await Hcs.Linux.UnixSocketPaths.ConnectAsync(socket, path, cancellationToken).ConfigureAwait(false);
            client = new ShimClient(socket);
            var answer = await client.SendAsync<HelloReply>(new HelloRequest(0, ShimProtocol.ProtocolVersion), cancellationToken).ConfigureAwait(false);
            if (ShimProtocol.IsMismatch(answer, out var theirs))
            {
                throw new ShimVersionException(theirs);
            }

            if (answer is ErrorReply error)
            {
                throw new ShimErrorException(error.Code, error.Error);
            }

            client.Hello = (HelloReply)answer;
            if (client.Hello.Ready)
            {
                client._initReady.TrySetResult();
            }

            return client;
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }

            throw;
        }
    }

    /// <summary>Completes when the shim reports that the container's init is ready (it handles SIGTERM), or had reported it before this connection.</summary>
    public Task InitReady => _initReady.Task;

    /// <summary>The exit of host pid <paramref name="pid"/>, whenever the shim reports it (before or after this call).</summary>
    public Task<ProcessExit> WaitExitAsync(int pid) => ExitSlot(pid).Task;

    /// <summary>Runs a process in the container.</summary>
    public Task<ExecReply> ExecAsync(ExecRequest request, CancellationToken cancellationToken) => RequestAsync<ExecReply>(request, cancellationToken);

    /// <summary>Sends a signal to a process the shim started.</summary>
    public Task SignalAsync(int pid, int signal, CancellationToken cancellationToken) =>
        RequestAsync<OkReply>(new SignalRequest(0, pid, signal), cancellationToken);

    /// <summary>Resizes the console of a process the shim started with a console.</summary>
    public Task ResizeAsync(int pid, int rows, int cols, CancellationToken cancellationToken) =>
        RequestAsync<OkReply>(new ResizeRequest(0, pid, rows, cols), cancellationToken);

    /// <summary>Sends <paramref name="request"/> (its id is replaced) and returns the reply; an error reply throws <see cref="ShimErrorException"/>.</summary>
    private async Task<TReply> RequestAsync<TReply>(ShimRequest request, CancellationToken cancellationToken)
        where TReply : ShimReply
    {
        var reply = await SendAsync<TReply>(request, cancellationToken).ConfigureAwait(false);
        return reply as TReply ?? throw new ShimErrorException(((ErrorReply)reply).Code, ((ErrorReply)reply).Error);
    }

    /// <summary>Sends <paramref name="request"/> with a fresh id; the reply is a <typeparamref name="TReply"/> or an <see cref="ErrorReply"/>.</summary>
    private async Task<ShimReply> SendAsync<TReply>(ShimRequest request, CancellationToken cancellationToken)
        where TReply : ShimReply
    {
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            var line = ShimCodec.Encode(request with { Id = id });
            await _writeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _stream.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeGate.Release();
            }

            var answer = await reply.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return ShimCodec.DecodeReply<TReply>(answer);
            }
            catch (JsonException e)
            {
                throw new ShimErrorException(ShimErrorCodes.Internal, $"the container monitor's reply is unreadable: {e.Message}");
            }
        }
        catch (IOException e)
        {
            throw new ShimErrorException("closed", $"the container monitor went away: {e.Message}");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private TaskCompletionSource<ProcessExit> ExitSlot(int pid) =>
        _exits.GetOrAdd(pid, static _ => new TaskCompletionSource<ProcessExit>(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task ReadLoopAsync()
    {
        try
        {
            using var reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } text)
            {
                if (text.Length == 0)
                {
                    continue;
                }

                var line = Encoding.UTF8.GetBytes(text);
                MonitorLine message;
                try
                {
                    message = ShimCodec.DecodeFromMonitor(line);
                }
                catch (JsonException)
                {
                    continue; // A malformed line from the shim is a bug there; the next line may still be good.
                }

                Dispatch(message, line);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The connection ended.
        }
        finally
        {
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(new IOException("the container monitor closed its control socket"));
            }

            _closed.TrySetResult();
        }
    }

    private void Dispatch(MonitorLine message, byte[] line)
    {
        switch (message)
        {
            case { Event: ProcessExit exit }:
                ExitSlot(exit.Pid).TrySetResult(exit);
                break;
            case { Event: InitReadyEvent }:
                _initReady.TrySetResult();
                break;
            case { ReplyId: { } id } when _pending.TryGetValue(id, out var reply):
                reply.TrySetResult(line);
                break;
            default:
                break;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the other side.
        }

        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _closed.Task.ConfigureAwait(false);
        _writeGate.Dispose();
    }
}
