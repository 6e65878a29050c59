// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Daemon;

/// <summary>
/// One client session on the daemon: the engine session opened for it, its handles by wire number, its calls in
/// flight (so a cancel request can reach one), and the outbox of the session stream. Every handle is subscribed to as
/// soon as it exists; its events and every call's reply share the outbox, so they reach the client in the order they
/// happened here: an event raised before a call completed precedes the call's reply.
/// </summary>
internal sealed class ServerSession : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ulong, Entry> _handles = new();
    private readonly Channel<SessionMessage> _outbox = Channel.CreateUnbounded<SessionMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private readonly ConcurrentDictionary<ulong, CancellationTokenSource> _calls = new();
    private long _nextHandle;
    private int _disposed;

    public ServerSession(string id, PeerCredentials peer, IComputeSession inner)
    {
        Id = id;
        Peer = peer;
        Inner = inner;
    }

    public string Id { get; }

    public PeerCredentials Peer { get; }

    public IComputeSession Inner { get; }

    public ChannelReader<SessionMessage> Outbox => _outbox.Reader;

    public int HandleCount => _handles.Count;

    /// <summary>Queues a message (an event or a reply) on the session stream; dropped once the stream has ended.</summary>
    public void Post(SessionMessage message) => _outbox.Writer.TryWrite(message);

    /// <summary>Call <paramref name="call"/> has entered: the token its cancel request (or the session's end) cancels.</summary>
    public CancellationToken BeginCall(ulong call)
    {
        var source = new CancellationTokenSource();
        _calls[call] = source;
        if (_closed.IsCancellationRequested)
        {
            source.Cancel();
        }

        return source.Token;
    }

    /// <summary>Call <paramref name="call"/> has replied.</summary>
    public void EndCall(ulong call)
    {
        if (_calls.TryRemove(call, out var source))
        {
            source.Dispose();
        }
    }

    /// <summary>The client cancelled call <paramref name="call"/>; it replies with the engine's outcome.</summary>
    public void Cancel(ulong call)
    {
        if (_calls.TryGetValue(call, out var source))
        {
            try
            {
                source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // It replied meanwhile.
            }
        }
    }

    public ulong Add(ISystemHandle handle) => Add(new Entry(handle, null));

    public ulong Add(IProcessHandle handle) => Add(new Entry(null, handle));

    public ISystemHandle System(ulong handle, string label) =>
        _handles.TryGetValue(handle, out var entry) && entry.System is { } system ? system : throw new HcsException(HResults.E_HANDLE, label);

    public IProcessHandle Process(ulong handle, string label) =>
        _handles.TryGetValue(handle, out var entry) && entry.Process is { } process ? process : throw new HcsException(HResults.E_HANDLE, label);

    /// <summary>Claims a process handle's stdio for one <c>ProcessStdio</c> call.</summary>
    public ProcessStdio ClaimStdio(ulong handle)
    {
        const string Label = "ComputeProcess.Stdio";
        if (!_handles.TryGetValue(handle, out var entry) || entry.Process is not { } process)
        {
            throw new HcsException(HResults.E_HANDLE, Label);
        }

        if (process.Stdio is not { } stdio || Interlocked.Exchange(ref entry.StdioClaimed, 1) != 0)
        {
            throw new HcsException(HResults.E_INVALIDARG, Label, null, process.ProcessId,
                ResultError.From(HResults.E_INVALIDARG, "the process has no stdio, or it is already attached"));
        }

        return stdio;
    }

    public async ValueTask CloseAsync(ulong handle)
    {
        if (!_handles.TryRemove(handle, out var entry))
        {
            throw new HcsException(HResults.E_HANDLE, "CloseHandle");
        }

        await entry.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Ends the session stream after what is queued; the client treats its end as a service disconnect.</summary>
    public void EndStream() => _outbox.Writer.TryComplete();

    /// <summary>Closes every handle (the engine applies ShouldTerminateOnLastHandleClosed) and the engine session.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        _outbox.Writer.TryComplete();
        foreach (var call in _calls.Keys)
        {
            Cancel(call);
        }

        foreach (var key in _handles.Keys)
        {
            if (_handles.TryRemove(key, out var entry))
            {
                await entry.DisposeAsync().ConfigureAwait(false);
            }
        }

        await Inner.DisposeAsync().ConfigureAwait(false);
        _closed.Dispose();
    }

    private ulong Add(Entry entry)
    {
        var number = (ulong)Interlocked.Increment(ref _nextHandle);
        _handles[number] = entry;
        entry.Pump = PumpAsync(number, entry);
        return number;
    }

    private async Task PumpAsync(ulong number, Entry entry)
    {
        IAsyncEnumerable<HcsEventRecord> events;
        try
        {
            events = entry.System is { } system ? system.ReadEventsAsync(_closed.Token) : entry.Process!.ReadEventsAsync(_closed.Token);
        }
        catch (HcsException)
        {
            return; // closed or disconnected before the subscription: nothing to forward
        }

        try
        {
            await foreach (var record in events.ConfigureAwait(false))
            {
                var message = new SessionMessage { Event = new Event { Handle = number, Type = (uint)record.Type } };
                if (record.EventData is { } data)
                {
                    message.Event.EventData = data;
                }

                _outbox.Writer.TryWrite(message);
            }
        }
        catch (OperationCanceledException)
        {
            // The session closed.
        }
        catch (HcsException)
        {
            // The service went away: its ServiceDisconnect was forwarded already, or the stream is ending.
        }
    }

    private sealed class Entry(ISystemHandle? system, IProcessHandle? process) : IAsyncDisposable
    {
        public int StdioClaimed;

        public ISystemHandle? System { get; } = system;

        public IProcessHandle? Process { get; } = process;

        public Task Pump { get; set; } = Task.CompletedTask;

        public ValueTask DisposeAsync() => System is not null ? System.DisposeAsync() : Process!.DisposeAsync();
    }
}
