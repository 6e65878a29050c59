// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Daemon;

/// <summary>
/// One client session on the daemon: the engine session opened for it, its handles by wire number, its calls (queued
/// or running, by number, so a cancel request can reach one and a duplicate number is refused), and the outbox of the
/// session stream. Every handle is subscribed to as soon as it exists; its events and every call's reply share the
/// outbox, so they reach the client in the order they happened here: an event raised before a call completed precedes
/// the call's reply. What the session holds is bounded (<see cref="DaemonLimits"/>): requests wait in a queue until
/// the session and its uid have a call slot and the outbox is under its bound, and the reader is told to pause while
/// the outbox or the queue is full.
/// </summary>
internal sealed class ServerSession : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ulong, Entry> _handles = new();
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _closed = new();
    private readonly DaemonLimits _limits;
    private readonly UidCalls _uid;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, Call> _calls = []; // guarded by _gate: queued or running, by call number
    private readonly LinkedList<Call> _queue = []; // guarded by _gate: read, not yet started, in arrival order
    private long _queuedBytes; // guarded by _gate
    private int _slotlessQueued; // guarded by _gate: queued calls that need no slot (close_handle)
    private int _running; // guarded by _gate
    private int _peakRunning; // guarded by _gate
    private int _peakQueued; // guarded by _gate
    private bool _pumping; // guarded by _gate: one thread starts queued calls at a time, so they start in order
    private bool _pumpAgain; // guarded by _gate
    private TaskCompletionSource? _room; // guarded by _gate: the paused reader waits on it
    private long _outboxBytes;
    private long _peakOutboxBytes;
    private long _readPauses;
    private volatile bool _reading = true;
    private long _nextHandle;
    private int _disposed;

    public ServerSession(string id, PeerCredentials peer, IComputeSession inner, DaemonLimits limits, UidCalls uid)
    {
        Id = id;
        Peer = peer;
        Inner = inner;
        _limits = limits;
        _uid = uid;
    }

    public string Id { get; }

    public PeerCredentials Peer { get; }

    public IComputeSession Inner { get; }

    public ChannelReader<Outgoing> Outbox => _outbox.Reader;

    public int HandleCount => _handles.Count;

    /// <summary>True while requests wait in the queue (someone must start them when a slot or outbox room frees).</summary>
    public bool HasQueued
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count > 0;
            }
        }
    }

    /// <summary>Queues a message (an event or a reply) on the session stream; dropped once the stream has ended.</summary>
    public void Post(SessionMessage message)
    {
        var size = message.CalculateSize();
        var now = Interlocked.Add(ref _outboxBytes, size);
        if (!_outbox.Writer.TryWrite(new Outgoing(message, size)))
        {
            Interlocked.Add(ref _outboxBytes, -size);
            return;
        }

        var peak = Interlocked.Read(ref _peakOutboxBytes);
        while (now > peak && Interlocked.CompareExchange(ref _peakOutboxBytes, now, peak) != peak)
        {
            peak = Interlocked.Read(ref _peakOutboxBytes);
        }
    }

    /// <summary>The writer has sent messages holding <paramref name="bytes"/> bytes: room for the reader and the queue.</summary>
    public void Sent(long bytes)
    {
        Interlocked.Add(ref _outboxBytes, -bytes);
        SignalRoom();
    }

    /// <summary>
    /// Queues request <paramref name="request"/> (<paramref name="size"/> bytes on the wire); false if a call with its
    /// number is already queued or running (the duplicate is refused; the original is not touched).
    /// </summary>
    public bool Enqueue(Request request, int size)
    {
        lock (_gate)
        {
            if (!_calls.TryAdd(request.Call, new Call(request, size)))
            {
                return false;
            }

            var call = _calls[request.Call];
            call.Node = _queue.AddLast(call);
            _queuedBytes += size;
            _slotlessQueued += call.Slotless ? 1 : 0;
            _peakQueued = Math.Max(_peakQueued, _queue.Count);
            return true;
        }
    }

    /// <summary>
    /// Starts the next queued call if the session and its uid have a slot and the outbox is under its bound: the call
    /// leaves the queue with the token its cancel request (or the session's end) cancels. A <c>close_handle</c> needs no
    /// slot: at the head of the queue it starts at once, and when the head waits for a slot it starts ahead of it, so
    /// closing handles (what ends the waits that hold the slots) never waits behind them.
    /// </summary>
    public bool TryStart(out Call call)
    {
        lock (_gate)
        {
            call = null!;
            if (_queue.First is not { } first || Interlocked.Read(ref _outboxBytes) > _limits.MaxOutboxBytes || _closed.IsCancellationRequested)
            {
                return false;
            }

            if (first.Value.Slotless)
            {
                call = first.Value;
            }
            else if (_running < _limits.MaxCallsPerSession && _uid.TryAcquire(this))
            {
                call = first.Value;
                call.HoldsSlot = true;
                _running++;
                _peakRunning = Math.Max(_peakRunning, _running);
            }
            else if (_slotlessQueued > 0)
            {
                for (var node = first.Next; node is not null; node = node.Next)
                {
                    if (node.Value.Slotless)
                    {
                        call = node.Value;
                        break;
                    }
                }
            }

            if (call is null)
            {
                return false;
            }

            _queue.Remove(call.Node!);
            call.Node = null;
            _queuedBytes -= call.Size;
            _slotlessQueued -= call.Slotless ? 1 : 0;
            call.Token = new CancellationTokenSource();
            SignalRoomLocked();
            return true;
        }
    }

    /// <summary>Call <paramref name="call"/> has completed: its slot is free. Returns other sessions of the uid that wait for one.</summary>
    public IReadOnlyList<ServerSession> EndCall(Call call)
    {
        lock (_gate)
        {
            _calls.Remove(call.Request.Call);
            _running -= call.HoldsSlot ? 1 : 0;
        }

        call.Token?.Dispose();
        return call.HoldsSlot ? _uid.Release() : [];
    }

    /// <summary>
    /// The client cancelled call <paramref name="call"/>. A running call's token is cancelled (it replies with the
    /// engine's outcome); a queued call leaves the queue without starting and is returned, for the caller to answer.
    /// </summary>
    public Request? Cancel(ulong call)
    {
        CancellationTokenSource? running;
        lock (_gate)
        {
            if (!_calls.TryGetValue(call, out var entry))
            {
                return null;
            }

            if (entry.Node is { } node)
            {
                _queue.Remove(node);
                entry.Node = null;
                _queuedBytes -= entry.Size;
                _slotlessQueued -= entry.Slotless ? 1 : 0;
                _calls.Remove(call);
                SignalRoomLocked();
                return entry.Request;
            }

            running = entry.Token;
        }

        try
        {
            running?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // It replied meanwhile.
        }

        return null;
    }

    /// <summary>Claims the right to start queued calls; false if another thread has it (it will look again).</summary>
    public bool TryBeginPump()
    {
        lock (_gate)
        {
            if (_pumping)
            {
                _pumpAgain = true;
                return false;
            }

            _pumping = true;
            return true;
        }
    }

    /// <summary>True if the pump must look again (someone asked meanwhile); otherwise the pump is released.</summary>
    public bool ContinuePump()
    {
        lock (_gate)
        {
            if (_pumpAgain)
            {
                _pumpAgain = false;
                return true;
            }

            _pumping = false;
            return false;
        }
    }

    /// <summary>
    /// Completes at once if the session may read another frame: its outbox is under <see cref="DaemonLimits.MaxOutboxBytes"/>
    /// and its queue under <see cref="DaemonLimits.MaxQueuedRequests"/> and <see cref="DaemonLimits.MaxQueuedBytes"/>;
    /// otherwise once it may (the client read its replies, queued calls started).
    /// </summary>
    public async ValueTask WaitForRoomAsync(CancellationToken cancellationToken)
    {
        Task wait;
        lock (_gate)
        {
            if (HasRoomLocked())
            {
                return;
            }

            _reading = false;
            _readPauses++;
            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            wait = _room.Task;
        }

        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        _reading = true;
    }

    public DaemonSessionStatistics Statistics()
    {
        lock (_gate)
        {
            return new DaemonSessionStatistics(Id, Peer.Uid, Interlocked.Read(ref _outboxBytes), Interlocked.Read(ref _peakOutboxBytes), _running, _peakRunning,
                _queue.Count, _peakQueued, _readPauses, _reading);
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
        const string Label = OperationLabels.ProcessStdio;
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
            throw new HcsException(HResults.E_HANDLE, OperationLabels.CloseHandle);
        }

        await entry.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Ends the session stream after what is queued; the client treats its end as a service disconnect.</summary>
    public void EndStream() => _outbox.Writer.TryComplete();

    /// <summary>
    /// Closes every handle (the engine applies ShouldTerminateOnLastHandleClosed) and the engine session; queued calls
    /// never start, running ones are cancelled.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closed.CancelAsync().ConfigureAwait(false);
        _outbox.Writer.TryComplete();
        List<CancellationTokenSource> running = [];
        lock (_gate)
        {
            foreach (var call in _queue)
            {
                _calls.Remove(call.Request.Call);
                call.Node = null;
            }

            _queue.Clear();
            _queuedBytes = 0;
            _slotlessQueued = 0;
            running.AddRange(_calls.Values.Select(c => c.Token).OfType<CancellationTokenSource>());
            _room?.TrySetResult();
            _room = null;
        }

        _uid.Forget(this);
        foreach (var token in running)
        {
            try
            {
                await token.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // It replied meanwhile.
            }
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

    private bool HasRoomLocked() => Interlocked.Read(ref _outboxBytes) <= _limits.MaxOutboxBytes && _queue.Count < _limits.MaxQueuedRequests
        && _queuedBytes < _limits.MaxQueuedBytes;

    private void SignalRoom()
    {
        if (Volatile.Read(ref _room) is null)
        {
            return;
        }

        lock (_gate)
        {
            SignalRoomLocked();
        }
    }

    private void SignalRoomLocked()
    {
        if (_room is { } room && HasRoomLocked())
        {
            _room = null;
            room.TrySetResult();
        }
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
                    if (message.CalculateSize() > WireLimits.MaxPayloadSize)
                    {
                        // No event of this service comes near the message limit; one that did would end the stream.
                        message.Event.ClearEventData();
                    }
                }

                Post(message);
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

    /// <summary>A message in the outbox, with its size (counted against <see cref="DaemonLimits.MaxOutboxBytes"/>).</summary>
    public readonly record struct Outgoing(SessionMessage Message, int Size);

    /// <summary>A call of the session: queued (<see cref="Node"/> set) or running (<see cref="Token"/> set).</summary>
    internal sealed class Call(Request request, int size)
    {
        public Request Request { get; } = request;

        public int Size { get; } = size;

        /// <summary>A <c>close_handle</c>: it needs no call slot (it ends calls, and a handle closes once).</summary>
        public bool Slotless { get; } = request.VerbCase == Request.VerbOneofCase.CloseHandle;

        /// <summary>It took a slot of the session and of its uid when it started (released when it ends).</summary>
        public bool HoldsSlot { get; set; }

        public LinkedListNode<Call>? Node { get; set; }

        public CancellationTokenSource? Token { get; set; }
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

/// <summary>
/// The calls in flight of one uid, across its sessions (<see cref="DaemonLimits.MaxCallsPerUid"/>): a session that
/// finds no slot is remembered and told when one frees, so its queue moves on.
/// </summary>
internal sealed class UidCalls(int max)
{
    private readonly Lock _gate = new();
    private readonly HashSet<ServerSession> _waiting = []; // guarded by _gate
    private int _running; // guarded by _gate
    private int _peak; // guarded by _gate

    /// <summary>Calls of the uid running now, and the most there have been.</summary>
    public (int Running, int Peak) Counts
    {
        get
        {
            lock (_gate)
            {
                return (_running, _peak);
            }
        }
    }

    public bool TryAcquire(ServerSession session)
    {
        lock (_gate)
        {
            if (_running < max)
            {
                _running++;
                _peak = Math.Max(_peak, _running);
                return true;
            }

            _waiting.Add(session);
            return false;
        }
    }

    public IReadOnlyList<ServerSession> Release()
    {
        lock (_gate)
        {
            _running--;
            if (_waiting.Count == 0)
            {
                return [];
            }

            var waiting = _waiting.ToArray();
            _waiting.Clear();
            return waiting;
        }
    }

    public void Forget(ServerSession session)
    {
        lock (_gate)
        {
            _waiting.Remove(session);
        }
    }
}
