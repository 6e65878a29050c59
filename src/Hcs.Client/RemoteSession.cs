// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// A session on <c>hcsd</c>: the <c>OpenSession</c> stream carries the events of all its handles; its end (the
/// daemon stopped or died, or the connection broke) is a service disconnect: every open handle receives
/// <c>ServiceDisconnect</c> once, and every pending call fails with <c>HCS_E_SERVICE_DISCONNECT</c>.
/// A reply names the last event the daemon sent before it, and the call completes only after that event has been
/// delivered here, so events keep their order relative to the calls that caused them.
/// </summary>
internal sealed class RemoteSession : IComputeSession
{
    private readonly ComputeService.ComputeServiceClient _client;
    private readonly string _socket;
    private readonly TaskCompletionSource<Metadata> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ulong, RemoteHandle> _handles = new();
    private readonly Lock _sequenceGate = new();
    private readonly Lock _earlyGate = new();
    private readonly Dictionary<ulong, List<HcsEventRecord>> _early = []; // guarded by _earlyGate: events of handles whose reply has not arrived
    private readonly List<(ulong Sequence, TaskCompletionSource Waiter)> _sequenceWaiters = []; // guarded by _sequenceGate
    private readonly Task _reader;
    private ulong _received; // guarded by _sequenceGate
    private int _disposed;
    private volatile bool _lostBeforeDispose;
    private int _lostOnce;
    private long _calls;

    public RemoteSession(ComputeService.ComputeServiceClient client, ClientIdentity identity, string socket)
    {
        _client = client;
        _socket = socket;
        Client = identity;
        Disconnected = _lost.Token;
        _reader = Task.Run(ReadSessionAsync);
    }

    public ClientIdentity Client { get; }

    public CancellationToken Disconnected { get; }

    /// <summary>Completes when hcsd has accepted the session; fails if it cannot be reached.</summary>
    public Task Opened => _opened.Task;

    internal ComputeService.ComputeServiceClient Rpc => _client;

    internal CancellationToken Lost => _lost.Token;

    public Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Create", id, null,
            (headers, options) => _client.CreateSystemAsync(new CreateSystemRequest { Id = id ?? "", Configuration = configuration ?? "" }, options.WithHeaders(headers)),
            reply => reply.EventsThrough,
            reply => (ISystemHandle)Track(new RemoteSystemHandle(this, reply.Handle, reply.Id)), cancellationToken);

    public Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default) =>
        CallAsync("ComputeSystem.Open", id, null,
            (headers, options) => _client.OpenSystemAsync(new OpenSystemRequest { Id = id ?? "" }, options.WithHeaders(headers)),
            reply => reply.EventsThrough,
            reply => (ISystemHandle)Track(new RemoteSystemHandle(this, reply.Handle, reply.Id)), cancellationToken);

    public Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default) =>
        JsonAsync("ComputeSystem.Enumerate", null, null,
            (headers, options) => _client.EnumerateSystemsAsync(Query(query), options.WithHeaders(headers)), cancellationToken);

    public Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        JsonAsync("Service.GetProperties", null, null,
            (headers, options) => _client.GetServicePropertiesAsync(Query(query), options.WithHeaders(headers)), cancellationToken);

    public Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default) =>
        JsonAsync("Service.SubmitWerReport", null, null,
            (headers, options) => _client.SubmitWerReportAsync(Query(settings), options.WithHeaders(headers)), cancellationToken);

    public Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default) =>
        JsonAsync("ComputeSystem.GrantAccess", id, null,
            (headers, options) => _client.GrantAccessAsync(new GrantAccessRequest { Id = id ?? "", Uid = uid }, options.WithHeaders(headers)), cancellationToken);

    /// <summary>One unary call: waits for the session, maps failures to <see cref="HcsException"/>, keeps event order.</summary>
    internal async Task<TResult> CallAsync<TReply, TResult>(string label, string? id, uint? processId,
        Func<Metadata, CallOptions, AsyncUnaryCall<TReply>> call, Func<TReply, ulong> eventsThrough, Func<TReply, TResult> result, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new HcsException(_lostBeforeDispose ? HResults.HCS_E_SERVICE_DISCONNECT : HResults.E_HANDLE, label, id, processId);
        }

        // Numbered now, while the caller's call is still synchronous: the daemon lets calls enter the engine in this order.
        var number = (ulong)Interlocked.Increment(ref _calls);
        Metadata headers;
        try
        {
            var session = await _opened.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            headers = new Metadata
            {
                session[0],
                { WireErrors.CallHeader, number.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new HcsException(HResults.ERROR_CANCELLED, label, id, processId);
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, label, id, processId, e.Result, e);
        }

        // A linked source only when the caller can cancel: most calls pass none, and this is the per-call path.
        using var linked = cancellationToken.CanBeCanceled ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lost.Token) : null;
        TReply reply;
        try
        {
            reply = await call(headers, new CallOptions(cancellationToken: linked?.Token ?? _lost.Token)).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException e) when (cancellationToken.IsCancellationRequested && !_lost.IsCancellationRequested)
        {
            throw new HcsException(HResults.ERROR_CANCELLED, label, id, processId, inner: e);
        }
        catch (RpcException e)
        {
            throw WireErrors.ToHcsException(e, label, id, processId);
        }
        catch (ObjectDisposedException e)
        {
            throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, id, processId,
                ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, "the connection to hcsd was closed"), e);
        }

        await EventsDeliveredAsync(eventsThrough(reply)).ConfigureAwait(false);
        return result(reply);
    }

    internal Task<string> JsonAsync(string label, string? id, uint? processId,
        Func<Metadata, CallOptions, AsyncUnaryCall<JsonReply>> call, CancellationToken cancellationToken) =>
        CallAsync(label, id, processId, call, reply => reply.EventsThrough, reply => reply.HasJson ? reply.Json : "", cancellationToken);

    internal async Task<Metadata> HeadersAsync() => await _opened.Task.ConfigureAwait(false);

    internal RemoteHandle Track(RemoteHandle handle)
    {
        List<HcsEventRecord>? early;
        lock (_earlyGate)
        {
            _handles[handle.Number] = handle;
            _early.Remove(handle.Number, out early);
        }

        // Events the daemon sent for this handle before its reply (e.g. the exit replayed to a handle opened on a
        // stopped system) are delivered now, in order.
        foreach (var record in early ?? [])
        {
            handle.Deliver(record);
        }

        if (_lost.IsCancellationRequested)
        {
            handle.OnServiceDisconnected();
        }

        return handle;
    }

    internal void Untrack(RemoteHandle handle)
    {
        lock (_earlyGate)
        {
            _handles.TryRemove(handle.Number, out _);
            _early.Remove(handle.Number);
        }
    }

    /// <summary>Closes a handle on the daemon (best effort when the service is gone: the daemon closed it then).</summary>
    internal async ValueTask CloseOnServiceAsync(ulong number)
    {
        if (_lost.IsCancellationRequested)
        {
            return;
        }

        try
        {
            var headers = await _opened.Task.ConfigureAwait(false);
            await _client.CloseHandleAsync(new CloseHandleRequest { Handle = number }, new CallOptions(headers, cancellationToken: _lost.Token)).ResponseAsync.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or ObjectDisposedException)
        {
            // The service went away: it closed the handle itself.
        }
        catch (HcsException)
        {
            // The session never opened.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lostBeforeDispose = _lost.IsCancellationRequested;
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Close the handles first, so a system that terminates on last handle close has done so when this returns.
        var handles = _handles.Values.ToArray();
        await Task.WhenAll(handles.Select(h => h.DisposeAsync().AsTask())).ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private async Task ReadSessionAsync()
    {
        try
        {
            using var call = _client.OpenSession(new OpenSessionRequest { ClientName = Client.Name, ClientPid = Client.Pid },
                new CallOptions(cancellationToken: _stop.Token));
            var stream = call.ResponseStream;
            while (await stream.MoveNext(_stop.Token).ConfigureAwait(false))
            {
                var message = stream.Current;
                if (message.KindCase == SessionMessage.KindOneofCase.Opened)
                {
                    _opened.TrySetResult(new Metadata { { WireErrors.SessionHeader, message.Opened.SessionId } });
                    continue;
                }

                var ev = message.Event;
                var record = new HcsEventRecord((HcsEventType)ev.Type, ev.HasEventData ? ev.EventData : null);
                RemoteHandle? handle;
                lock (_earlyGate)
                {
                    if (!_handles.TryGetValue(ev.Handle, out handle))
                    {
                        // The reply that creates this handle is still on its way.
                        (_early.TryGetValue(ev.Handle, out var list) ? list : _early[ev.Handle] = []).Add(record);
                    }
                }

                handle?.Deliver(record);

                Received(ev.Sequence);
            }
        }
        catch (RpcException e) when (!_stop.IsCancellationRequested)
        {
            if (!_opened.Task.IsCompleted && e.Trailers.Get(WireErrors.Trailer) is null)
            {
                // Never connected: say where we looked and what the kernel said, in one line.
                var cause = e.Status.DebugException is { } debug ? Innermost(debug).Message : e.Status.Detail;
                _opened.TrySetException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, "Service.Connect", null, null,
                    ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"hcsd is not reachable at {_socket}: {cause.ReplaceLineEndings(" ")}")));
            }
            else
            {
                _opened.TrySetException(WireErrors.ToHcsException(e, "Service.Connect"));
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException)
        {
            // Closed by DisposeAsync.
        }
        finally
        {
            _opened.TrySetException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, "Service.Connect", null, null,
                ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"hcsd is not reachable at {_socket}")));
            OnLost();
        }
    }

    internal void OnLost()
    {
        if (Interlocked.Exchange(ref _lostOnce, 1) != 0)
        {
            return;
        }

        _lost.Cancel();
        foreach (var handle in _handles.Values)
        {
            handle.OnServiceDisconnected();
        }

        List<TaskCompletionSource> waiters;
        lock (_sequenceGate)
        {
            waiters = [.. _sequenceWaiters.Select(w => w.Waiter)];
            _sequenceWaiters.Clear();
            _received = ulong.MaxValue;
        }

        foreach (var waiter in waiters)
        {
            waiter.TrySetResult();
        }
    }

    private void Received(ulong sequence)
    {
        List<TaskCompletionSource>? ready = null;
        lock (_sequenceGate)
        {
            _received = Math.Max(_received, sequence);
            for (var i = _sequenceWaiters.Count - 1; i >= 0; i--)
            {
                if (_sequenceWaiters[i].Sequence <= sequence)
                {
                    (ready ??= []).Add(_sequenceWaiters[i].Waiter);
                    _sequenceWaiters.RemoveAt(i);
                }
            }
        }

        if (ready is not null)
        {
            foreach (var waiter in ready)
            {
                waiter.TrySetResult();
            }
        }
    }

    private Task EventsDeliveredAsync(ulong sequence)
    {
        lock (_sequenceGate)
        {
            if (_received >= sequence)
            {
                return Task.CompletedTask;
            }

            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _sequenceWaiters.Add((sequence, waiter));
            return waiter.Task;
        }
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static QueryRequest Query(string? json) => json is null ? new QueryRequest() : new QueryRequest { Json = json };
}
