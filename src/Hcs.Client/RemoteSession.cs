// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// A session on <c>hcsd</c>: one <c>Session</c> stream carries its calls (requests out, batched into frames) and, in
/// one ordered sequence, their replies and the events of all its handles, so an event the engine raised before a call
/// completed is delivered here before the call completes, as in process. Calls are numbered and queued in the order
/// they are made, and enter the engine in that order. The stream's end (the daemon stopped or died, or the connection
/// broke) is a service disconnect: every open handle receives <c>ServiceDisconnect</c> once, and every pending call
/// fails with <c>HCS_E_SERVICE_DISCONNECT</c>.
/// </summary>
internal sealed class RemoteSession : IComputeSession
{
    /// <summary>A frame stops taking requests once it holds this many bytes (one large request still goes alone).</summary>
    private const int FrameBudget = 256 * 1024;
    private readonly ComputeService.ComputeServiceClient _client;
    private readonly string _socket;
    private readonly TaskCompletionSource<Metadata> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lost = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<ulong, RemoteHandle> _handles = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Reply?>> _pending = new(); // calls sent, reply not yet here
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _earlyGate = new();
    private readonly Dictionary<ulong, List<HcsEventRecord>> _early = []; // guarded by _earlyGate: events of handles whose reply has not arrived
    private readonly Task _reader;
    private HcsException? _openFailure;
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
        _reader = Task.Run(RunSessionAsync);
    }

    public ClientIdentity Client { get; }

    public CancellationToken Disconnected { get; }

    /// <summary>Completes when hcsd has accepted the session; fails if it cannot be reached.</summary>
    public Task Opened => _opened.Task;

    internal ComputeService.ComputeServiceClient Rpc => _client;

    internal CancellationToken Lost => _lost.Token;

    public async Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default)
    {
        var request = new Request { CreateSystem = new CreateSystemRequest { Id = id ?? "", Configuration = configuration ?? "" } };
        var reply = await CallAsync(OperationLabels.CreateSystem, id, null, request, Reply.ResultOneofCase.Handle, cancellationToken).ConfigureAwait(false);
        return (ISystemHandle)Track(new RemoteSystemHandle(this, reply.Handle.Handle, reply.Handle.Id));
    }

    public async Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default)
    {
        var request = new Request { OpenSystem = new OpenSystemRequest { Id = id ?? "" } };
        var reply = await CallAsync(OperationLabels.OpenSystem, id, null, request, Reply.ResultOneofCase.Handle, cancellationToken).ConfigureAwait(false);
        return (ISystemHandle)Track(new RemoteSystemHandle(this, reply.Handle.Handle, reply.Handle.Id));
    }

    public Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default) =>
        JsonAsync(OperationLabels.EnumerateSystems, null, null, new Request { EnumerateSystems = Query(query) }, cancellationToken);

    public Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        JsonAsync(OperationLabels.GetServiceProperties, null, null, new Request { GetServiceProperties = Query(query) }, cancellationToken);

    public Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default) =>
        JsonAsync(OperationLabels.SubmitWerReport, null, null, new Request { SubmitWerReport = Query(settings) }, cancellationToken);

    public Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default) =>
        JsonAsync(OperationLabels.GrantAccess, id, null, new Request { GrantAccess = new GrantAccessRequest { Id = id ?? "", Uid = uid } }, cancellationToken);

    /// <summary>
    /// One call: numbered and queued now, while the caller's call is still synchronous (calls enter the engine in the
    /// order they are made); completes with the reply (or the rebuilt <see cref="HcsException"/>) once every event that
    /// preceded the reply has been delivered. The caller's token sends a cancel request; the reply then says what the
    /// engine made of it, as in process.
    /// </summary>
    internal async Task<Reply> CallAsync(string label, string? id, uint? processId, Request request, Reply.ResultOneofCase expected, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new HcsException(_lostBeforeDispose ? HResults.HCS_E_SERVICE_DISCONNECT : HResults.E_HANDLE, label, id, processId);
        }

        return await SendAsync(label, id, processId, request, expected, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="CallAsync"/> without the disposed check: closing handles is part of disposing.</summary>
    private async Task<Reply> SendAsync(string label, string? id, uint? processId, Request request, Reply.ResultOneofCase expected, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            throw new HcsException(HResults.ERROR_CANCELLED, label, id, processId);
        }

        // A request over the message limit would break the whole stream (hcsd refuses the frame): it fails alone, now.
        var size = request.CalculateSize();
        if (size > WireLimits.MaxPayloadSize)
        {
            throw WireLimits.TooLarge("the request", size, label, id, processId);
        }

        var number = (ulong)Interlocked.Increment(ref _calls);
        request.Call = number;
        var pending = new TaskCompletionSource<Reply?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[number] = pending;
        // OnLost marks the session lost before it fails what is pending: either it saw this call, or this call sees it.
        if ((_lost.IsCancellationRequested || !_requests.Writer.TryWrite(request)) && _pending.TryRemove(number, out _))
        {
            throw LostError(label, id, processId);
        }

        Reply? reply;
        using (cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static (state, _) =>
            {
                var (requests, call) = ((Channel<Request>, ulong))state!;
                requests.Writer.TryWrite(new Request { Call = call, Cancel = new CancelRequest() });
            }, (_requests, number))
            : default)
        {
            reply = await pending.Task.ConfigureAwait(false);
        }

        if (reply is null)
        {
            throw LostError(label, id, processId);
        }

        if (reply.ResultCase == Reply.ResultOneofCase.Error)
        {
            throw WireErrors.FromDetail(reply.Error);
        }

        if (reply.ResultCase != expected)
        {
            throw new HcsException(HResults.E_FAIL, label, id, processId,
                ResultError.From(HResults.E_FAIL, $"hcsd answered {reply.ResultCase} to a call expecting {expected}"));
        }

        return reply;
    }

    internal async Task<string> JsonAsync(string label, string? id, uint? processId, Request request, CancellationToken cancellationToken)
    {
        var reply = await CallAsync(label, id, processId, request, Reply.ResultOneofCase.Json, cancellationToken).ConfigureAwait(false);
        return reply.Json.HasJson ? reply.Json.Json : "";
    }

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
            await SendAsync(OperationLabels.CloseHandle, null, null, new Request { CloseHandle = new CloseHandleRequest { Handle = number } }, Reply.ResultOneofCase.Json, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (HcsException e) when (e.HResult is HResults.HCS_E_SERVICE_DISCONNECT or HResults.E_HANDLE)
        {
            // The service went away (it closed the handle itself), or the daemon no longer knows the handle.
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

    private async Task RunSessionAsync()
    {
        Task? writer = null;
        try
        {
            using var call = _client.Session(new CallOptions(cancellationToken: _stop.Token));
            writer = WriteFramesAsync(call.RequestStream);
            // A writer that fails (the stream broke under it) ends the session: its calls must not wait for replies.
            _ = writer.ContinueWith(static (_, state) => ((RemoteSession)state!).OnWriterFailed(), this, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var stream = call.ResponseStream;
            while (await stream.MoveNext(_stop.Token).ConfigureAwait(false))
            {
                foreach (var message in stream.Current.Messages)
                {
                    Receive(message);
                }
            }
        }
        catch (RpcException e) when (!_stop.IsCancellationRequested)
        {
            if (!_opened.Task.IsCompleted && e.Trailers.Get(WireErrors.Trailer) is null)
            {
                // Never connected: say where we looked and what the kernel said, in one line.
                var cause = e.Status.DebugException is { } debug ? Innermost(debug).Message : e.Status.Detail;
                _openFailure = new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.Connect, null, null,
                    ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"hcsd is not reachable at {_socket}: {cause.ReplaceLineEndings(" ")}"));
            }
            else if (!_opened.Task.IsCompleted)
            {
                _openFailure = WireErrors.ToHcsException(e, OperationLabels.Connect);
            }
        }
        catch (Exception e) when (e is RpcException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Closed by DisposeAsync, or the connection (RemoteService) was disposed first.
        }
        finally
        {
            _opened.TrySetException(_openFailure ?? new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.Connect, null, null,
                ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"hcsd is not reachable at {_socket}")));
            OnLost();
            if (writer is not null)
            {
                try
                {
                    await writer.ConfigureAwait(false);
                }
                catch (Exception e) when (e is RpcException or OperationCanceledException or IOException or InvalidOperationException or ObjectDisposedException)
                {
                    // The stream broke under it.
                }
            }
        }
    }

    /// <summary>Sends the opening frame, then every queued request, batched: a frame takes what is queued when it is built.</summary>
    private async Task WriteFramesAsync(IClientStreamWriter<ClientFrame> requestStream)
    {
        var frame = new ClientFrame { Open = new OpenSessionRequest { ClientName = Client.Name, ClientPid = Client.Pid } };
        var reader = _requests.Reader;
        do
        {
            var size = 0;
            while (size < FrameBudget && reader.TryPeek(out var request))
            {
                var framed = WireLimits.FramedSize(request.CalculateSize());
                if (frame.Requests.Count > 0 && size + framed > WireLimits.MaxMessageSize - 64)
                {
                    break; // it goes in the next frame: a frame never exceeds the message limit
                }

                reader.TryRead(out _);
                frame.Requests.Add(request);
                size += framed;
            }

            await requestStream.WriteAsync(frame, _stop.Token).ConfigureAwait(false);
            frame = new ClientFrame();
        }
        while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false));
    }

    private void Receive(SessionMessage message)
    {
        switch (message.KindCase)
        {
            case SessionMessage.KindOneofCase.Opened:
                _opened.TrySetResult(new Metadata { { WireErrors.SessionHeader, message.Opened.SessionId } });
                break;
            case SessionMessage.KindOneofCase.Reply:
                if (_pending.TryRemove(message.Reply.Call, out var pending))
                {
                    pending.TrySetResult(message.Reply);
                }

                break;
            case SessionMessage.KindOneofCase.Event:
                var ev = message.Event;
                var record = new HcsEventRecord((HcsEventType)ev.Type, ev.HasEventData ? ev.EventData : null);
                RemoteHandle? handle;
                lock (_earlyGate)
                {
                    if (!_handles.TryGetValue(ev.Handle, out handle))
                    {
                        // The reply that creates this handle is on its way to its caller.
                        (_early.TryGetValue(ev.Handle, out var list) ? list : _early[ev.Handle] = []).Add(record);
                    }
                }

                handle?.Deliver(record);
                break;
        }
    }

    private void OnWriterFailed()
    {
        if (!_opened.Task.IsCompletedSuccessfully)
        {
            return; // the reader reports why the session could not open
        }

        OnLost();
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile.
        }
    }

    internal void OnLost()
    {
        if (Interlocked.Exchange(ref _lostOnce, 1) != 0)
        {
            return;
        }

        _lost.Cancel();
        _requests.Writer.TryComplete();
        foreach (var handle in _handles.Values)
        {
            handle.OnServiceDisconnected();
        }

        foreach (var call in _pending.Keys)
        {
            if (_pending.TryRemove(call, out var pending))
            {
                pending.TrySetResult(null);
            }
        }
    }

    private HcsException LostError(string label, string? id, uint? processId) => _openFailure is { } failure
        ? new HcsException(failure.HResult, label, id, processId, failure.Result, failure)
        : new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, id, processId,
            ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, "the connection to hcsd was lost"));

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;

    private static QueryRequest Query(string? json) => json is null ? new QueryRequest() : new QueryRequest { Json = json };
}
