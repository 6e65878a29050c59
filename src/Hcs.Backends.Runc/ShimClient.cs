// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Hcs.Backends.Runc;

/// <summary>An error reply of the shim (docs/shim-protocol.md): <see cref="Code"/> is <c>exec-failed</c>, <c>not-found</c>, <c>exited</c>, …</summary>
internal sealed class ShimErrorException(string code, string message) : Exception(message)
{
    /// <summary>The protocol's error code.</summary>
    public string Code { get; } = code;
}

/// <summary>The end of a process the shim started.</summary>
/// <param name="Status">Exit code, or 128 + the signal when a signal killed it.</param>
/// <param name="Signal">The signal that killed it, if one did.</param>
internal sealed record ShimExit(int Status, int? Signal);

/// <summary>
/// The engine's end of a container monitor's control socket (docs/shim-protocol.md): JSON lines, requests matched to
/// replies by id, exit events kept per pid (an exit may be read before anyone asks for it, so <see cref="WaitExitAsync"/>
/// works in either order). <see cref="Closed"/> completes when the shim closes the socket (it exits) or it fails.
/// </summary>
internal sealed class ShimClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonObject>> _pending = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<ShimExit>> _exits = new();
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

    /// <summary>Connects to the control socket at <paramref name="path"/>.</summary>
    public static async Task<ShimClient> ConnectAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new ShimClient(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Completes when the shim reports that the container's init is ready (it handles SIGTERM).</summary>
    public Task InitReady => _initReady.Task;

    /// <summary>The exit of host pid <paramref name="pid"/>, whenever the shim reports it (before or after this call).</summary>
    public Task<ShimExit> WaitExitAsync(int pid) => ExitSlot(pid).Task;

    /// <summary>Sends <paramref name="request"/> (an <c>id</c> is added) and returns the reply; an error reply throws <see cref="ShimErrorException"/>.</summary>
    public async Task<JsonObject> RequestAsync(JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var id = Interlocked.Increment(ref _nextId);
        request["id"] = id;
        var reply = new TaskCompletionSource<JsonObject>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        try
        {
            var line = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
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
            if (answer["error"] is { } error)
            {
                throw new ShimErrorException((string?)answer["code"] ?? "internal", error.GetValue<string>());
            }

            return answer;
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

    /// <summary>Sends a signal to a process the shim started.</summary>
    public Task SignalAsync(int pid, int signal, CancellationToken cancellationToken) =>
        RequestAsync(new JsonObject { ["op"] = "signal", ["pid"] = pid, ["signal"] = signal }, cancellationToken);

    private TaskCompletionSource<ShimExit> ExitSlot(int pid) =>
        _exits.GetOrAdd(pid, static _ => new TaskCompletionSource<ShimExit>(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task ReadLoopAsync()
    {
        try
        {
            using var reader = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                JsonObject message;
                try
                {
                    message = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not an object");
                }
                catch (JsonException)
                {
                    continue; // A malformed line from the shim is a bug there; the next line may still be good.
                }

                Dispatch(message);
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

    private void Dispatch(JsonObject message)
    {
        if ((string?)message["event"] is "exit")
        {
            var pid = (int?)message["pid"] ?? 0;
            var status = (int?)message["status"] ?? -1;
            ExitSlot(pid).TrySetResult(new ShimExit(status, (int?)message["signal"]));
        }
        else if ((string?)message["event"] is "ready")
        {
            _initReady.TrySetResult();
        }
        else if (message["id"] is { } id && _pending.TryGetValue(id.GetValue<long>(), out var reply))
        {
            reply.TrySetResult(message);
        }
    }

    /// <summary>Formats an exit for messages.</summary>
    public static string Describe(ShimExit exit) => exit.Signal is { } signal
        ? string.Create(CultureInfo.InvariantCulture, $"killed by signal {signal}")
        : string.Create(CultureInfo.InvariantCulture, $"exit status {exit.Status}");

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
