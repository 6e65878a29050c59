// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;
using Microsoft.Extensions.Logging;

namespace Hcs.Daemon;

/// <summary>
/// The gRPC service: a thin adapter from the wire to <see cref="IComputeService"/>. A session is one <c>Session</c>
/// stream on one connection, so it runs as that connection's peer (<c>SO_PEERCRED</c>); its requests are started in
/// the order they arrive and each one's reply (HRESULT + ResultError on failure, <see cref="WireErrors"/>) joins the
/// session's events in one ordered outbox. A <c>ProcessStdio</c> call names its session in the <c>hcs-session</c>
/// header, which must belong to the uid of the connection it arrives on.
/// </summary>
internal sealed partial class ComputeServiceAdapter : ComputeService.ComputeServiceBase
{
    /// <summary>A frame stops taking messages once it holds this many bytes (one large reply still goes alone).</summary>
    private const int FrameBudget = 256 * 1024;
    private readonly IComputeService _service;
    private readonly PeerTable _peers;
    private readonly ILogger _log;
    private readonly DaemonLimits _limits;
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<uint, UidCalls> _uids = new();
    private readonly ConcurrentDictionary<uint, StrongBox<int>> _sessionsPerUid = new();
    private volatile bool _stopping;

    public ComputeServiceAdapter(IComputeService service, PeerTable peers, ILogger log, DaemonLimits limits)
    {
        _service = service;
        _peers = peers;
        _log = log;
        _limits = limits;
    }

    public int SessionCount => _sessions.Count;

    /// <summary>What each open session holds now, and its peaks.</summary>
    public IReadOnlyList<DaemonSessionStatistics> Sessions => [.. _sessions.Values.Select(s => s.Statistics())];

    /// <summary>Calls of <paramref name="uid"/> running now, and the most there have been at once.</summary>
    public int ConnectionsOf(uint uid) => _peers.ConnectionsOf(uid);

    public int SessionsOf(uint uid) => _sessionsPerUid.TryGetValue(uid, out var count) ? Volatile.Read(ref count.Value) : 0;

    public (int Running, int Peak) CallsOf(uint uid) => _uids.TryGetValue(uid, out var calls) ? calls.Counts : (0, 0);

    /// <summary>
    /// The daemon is stopping: end every session stream after what is queued (clients treat that as a service
    /// disconnect) and leave the engine's handles alone, so systems keep running.
    /// </summary>
    public void Stop()
    {
        _stopping = true;
        foreach (var session in _sessions.Values)
        {
            session.EndStream();
        }
    }

    public override async Task Session(IAsyncStreamReader<ClientFrame> requestStream, IServerStreamWriter<ServiceFrame> responseStream, ServerCallContext context)
    {
        var peer = PeerOf(context);
        if (_stopping)
        {
            throw WireErrors.ToRpcException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.Connect));
        }

        var ct = context.CancellationToken;
        var first = await ReadOpenAsync(requestStream, peer, ct).ConfigureAwait(false);
        if (first is null)
        {
            return;
        }

        if (first.Open is not { } open)
        {
            throw WireErrors.ToRpcException(new HcsException(HResults.E_INVALIDARG, OperationLabels.Connect, null, null,
                ResultError.From(HResults.E_INVALIDARG, "the first frame of a session must carry `open`")));
        }

        var sessions = _sessionsPerUid.GetOrAdd(peer.Uid, _ => new StrongBox<int>());
        if (Interlocked.Increment(ref sessions.Value) > _limits.MaxSessionsPerUid)
        {
            Interlocked.Decrement(ref sessions.Value);
            throw WireErrors.ToRpcException(new HcsException(HResults.ERROR_NOT_ENOUGH_QUOTA, OperationLabels.Connect, null, null,
                ResultError.From(HResults.ERROR_NOT_ENOUGH_QUOTA,
                    $"uid {peer.Uid} already has {_limits.MaxSessionsPerUid} sessions open (hcsd --max-sessions-per-uid)")));
        }

        try
        {
            await RunSessionAsync(requestStream, responseStream, peer, open, first, ct).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref sessions.Value);
        }
    }

    private async Task RunSessionAsync(IAsyncStreamReader<ClientFrame> requestStream, IServerStreamWriter<ServiceFrame> responseStream,
        PeerCredentials peer, OpenSessionRequest open, ClientFrame first, CancellationToken ct)
    {
        IComputeSession inner;
        var name = string.IsNullOrWhiteSpace(open.ClientName) ? "client" : open.ClientName;
        try
        {
            inner = _service.OpenSession(new ClientIdentity(name, peer.Uid, peer.Pid, peer.Gid, peer.Groups));
        }
        catch (HcsException e)
        {
            throw WireErrors.ToRpcException(e);
        }

        var uid = _uids.GetOrAdd(peer.Uid, _ => new UidCalls(_limits.MaxCallsPerUid));
        var session = new ServerSession(NewSessionId(), peer, inner, _limits, uid);
        _sessions[session.Id] = session;
        Log.SessionOpened(_log, session.Id, name, peer.Pid, peer.Uid);
        session.Post(new SessionMessage { Opened = new Opened { SessionId = session.Id, PeerUid = peer.Uid, PeerPid = peer.Pid } });
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var writer = WriteFramesAsync(session, responseStream, ct);
        var reader = ReadFramesAsync(session, first, requestStream, reading.Token);
        HcsException? malformed = null;
        try
        {
            // Either side ending ends the session: the client's requests end (it closed the session or died, or sent
            // what cannot be read), or the outbox was completed (the daemon is stopping) or can no longer be written.
            await Task.WhenAny(reader, writer).ConfigureAwait(false);
            if (reader.IsFaulted && !ct.IsCancellationRequested && Malformed(reader.Exception.InnerException) is { } reason)
            {
                Log.MalformedFrame(_log, session.Id, peer.Pid, peer.Uid, reason);
                malformed = new HcsException(HResults.HCS_E_PROTOCOL_ERROR, OperationLabels.Session, null, null,
                    ResultError.From(HResults.HCS_E_PROTOCOL_ERROR, $"hcsd could not read a frame of this session: {reason}"));
            }
        }
        finally
        {
            await reading.CancelAsync().ConfigureAwait(false);
            await Quietly(reader).ConfigureAwait(false);
            _sessions.TryRemove(session.Id, out _);
            Log.SessionClosed(_log, session.Id, session.HandleCount, _stopping);
            if (_stopping)
            {
                session.EndStream();
            }
            else
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }

            await Quietly(writer).ConfigureAwait(false);
        }

        if (malformed is not null)
        {
            throw WireErrors.ToRpcException(malformed);
        }
    }

    /// <summary>
    /// The session's first frame, within <see cref="DaemonLimits.OpenTimeout"/>; null if the client ended the stream
    /// first. A stream that sends nothing in time, or sends what cannot be read, is refused.
    /// </summary>
    private async Task<ClientFrame?> ReadOpenAsync(IAsyncStreamReader<ClientFrame> requestStream, PeerCredentials peer, CancellationToken ct)
    {
        using var timeout = new CancellationTokenSource(_limits.OpenTimeout, _limits.Time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await requestStream.MoveNext(waiting.Token).ConfigureAwait(false) ? requestStream.Current : null;
        }
        catch (Exception e) when (timeout.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            Log.OpenTimedOut(_log, peer.Pid, peer.Uid, _limits.OpenTimeout.TotalSeconds, e.GetType().Name);
            throw WireErrors.ToRpcException(new HcsException(HResults.ERROR_TIMEOUT, OperationLabels.Connect, null, null,
                ResultError.From(HResults.ERROR_TIMEOUT, string.Create(CultureInfo.InvariantCulture,
                    $"the session stream sent no `open` within {_limits.OpenTimeout.TotalSeconds:0.###} s"))));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Malformed(e) is { } reason)
        {
            Log.MalformedFrame(_log, "(not open)", peer.Pid, peer.Uid, reason);
            throw WireErrors.ToRpcException(new HcsException(HResults.HCS_E_PROTOCOL_ERROR, OperationLabels.Connect, null, null,
                ResultError.From(HResults.HCS_E_PROTOCOL_ERROR, $"hcsd could not read the first frame of the session: {reason}")));
        }
    }

    /// <summary>Why reading a frame failed when the client sent what cannot be read (not when it went away); else null.</summary>
    private static string? Malformed(Exception? e) => e switch
    {
        InvalidProtocolBufferException => $"not a ClientFrame ({Quote(e.Message)})",
        RpcException rpc when rpc.StatusCode != StatusCode.Cancelled => $"{rpc.StatusCode}: {Quote(rpc.Status.Detail)}",
        InvalidDataException => Quote(e.Message),
        _ => null,
    };

    /// <summary>
    /// A session id: 32 hex digits, 122 of their bits random. Guid.NewGuid draws them from the kernel's random source
    /// on Linux; RandomNumberGenerator would load OpenSSL (libcrypto, 3.7 MB resident) into hcsd for this alone.
    /// </summary>
    private static string NewSessionId() => Guid.NewGuid().ToString("N");

    private static string Quote(string text) => text.Length <= 200 ? text : text[..200] + "…";

    private async Task ReadFramesAsync(ServerSession session, ClientFrame first, IAsyncStreamReader<ClientFrame> requestStream, CancellationToken cancellationToken)
    {
        Accept(session, first);
        while (true)
        {
            // Back-pressure: a client that does not read its replies (or floods calls) stops being read; HTTP/2 flow
            // control then stops its writes, and what it sent waits in its own memory, not in hcsd's.
            await session.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
            if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            Accept(session, requestStream.Current);
        }
    }

    /// <summary>
    /// Sends what the outbox holds, batched: each frame takes every message queued when it is built (up to
    /// <see cref="FrameBudget"/> bytes, never over the message limit), so a busy session pays one HTTP/2 frame for many
    /// replies and events. What was sent leaves the outbox's count, which may let the reader and the queue go on.
    /// </summary>
    private async Task WriteFramesAsync(ServerSession session, IServerStreamWriter<ServiceFrame> responseStream, CancellationToken cancellationToken)
    {
        var outbox = session.Outbox;
        while (await outbox.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var frame = new ServiceFrame();
            var size = 0;
            long bytes = 0;
            while (size < FrameBudget && outbox.TryPeek(out var next))
            {
                var framed = WireLimits.FramedSize(next.Size);
                if (frame.Messages.Count > 0 && size + framed > WireLimits.MaxMessageSize)
                {
                    break;
                }

                outbox.TryRead(out _);
                frame.Messages.Add(next.Message);
                size += framed;
                bytes += next.Size;
            }

            await responseStream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            session.Sent(bytes);
            SchedulePump(session);
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or RpcException)
        {
            // The client went away, or the stream is already complete (the connection is closing).
        }
    }

    /// <summary>
    /// Takes a frame's requests, in order: each is queued (a duplicate call number is refused), a cancel reaches its
    /// call whether it runs or still waits; then the queue is started as far as the limits allow.
    /// </summary>
    private void Accept(ServerSession session, ClientFrame frame)
    {
        foreach (var request in frame.Requests)
        {
            if (request.VerbCase == Request.VerbOneofCase.Cancel)
            {
                if (session.Cancel(request.Call) is { } queued)
                {
                    // It never started: it fails as a call whose token was cancelled before it was made.
                    var (label, id) = Describe(queued);
                    session.Post(ErrorReply(queued.Call, new HcsException(HResults.ERROR_CANCELLED, label, id)));
                }
            }
            else if (!session.Enqueue(request, request.CalculateSize()))
            {
                var (label, id) = Describe(request);
                session.Post(ErrorReply(request.Call, new HcsException(HResults.E_INVALIDARG, label, Truncated(id), null, ResultError.From(HResults.E_INVALIDARG,
                    string.Create(CultureInfo.InvariantCulture, $"call number {request.Call} is already in flight on this session; the duplicate was refused")))));
            }
        }

        Pump(session);
    }

    /// <summary>
    /// Starts queued calls of <paramref name="session"/>, in order, while it and its uid have call slots: a call enters
    /// the engine (runs up to its first wait) before the next one starts, so calls of one session enter the engine in
    /// the order the client made them, as in process. One thread at a time does this for a session.
    /// </summary>
    private void Pump(ServerSession session)
    {
        if (!session.TryBeginPump())
        {
            return;
        }

        do
        {
            while (session.TryStart(out var call))
            {
                _ = RunAsync(session, call);
            }
        }
        while (session.ContinuePump());
    }

    /// <summary>Starts queued calls of <paramref name="session"/> on the thread pool (never inline in the engine's completion of a call).</summary>
    private void SchedulePump(ServerSession session)
    {
        if (session.HasQueued)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Adapter.Pump(state.Session), (Adapter: this, Session: session), preferLocal: false);
        }
    }

    private async Task RunAsync(ServerSession session, ServerSession.Call call)
    {
        var request = call.Request;
        var reply = new Reply { Call = request.Call };
        try
        {
            await InvokeAsync(session, request, reply, call.Token!.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var (label, id) = Describe(request);
            reply.Error = WireErrors.ToDetail(HcsException.Wrap(e, label, Truncated(id)));
        }

        var waiting = session.EndCall(call);
        Fit(reply, request);
        session.Post(new SessionMessage { Reply = reply });
        SchedulePump(session);
        foreach (var other in waiting)
        {
            SchedulePump(other);
        }
    }

    /// <summary>
    /// A reply over the message limit would end the whole session: an error's text is cut (it keeps its HRESULT), any
    /// other reply becomes <c>ERROR_MESSAGE_EXCEEDS_MAX_SIZE</c>. Either way only this call fails.
    /// </summary>
    private static void Fit(Reply reply, Request request)
    {
        var size = reply.CalculateSize();
        if (size <= WireLimits.MaxPayloadSize - 16)
        {
            return;
        }

        var (label, id) = Describe(request);
        if (reply.ResultCase == Reply.ResultOneofCase.Error)
        {
            var detail = reply.Error;
            var original = WireErrors.FromDetail(detail);
            var message = original.Result.ErrorMessage ?? "";
            var note = string.Create(CultureInfo.InvariantCulture, $" … [cut: the error was {size} bytes, over the {WireLimits.MaxPayloadSize}-byte limit of a message]");
            var result = original.Result with { ErrorMessage = (message.Length > 65536 ? message[..65536] : message) + note, ErrorEvents = null, Attribution = null };
            reply.Error = WireErrors.ToDetail(new HcsException(detail.Hresult, Truncated(detail.HasOperation ? detail.Operation : label),
                Truncated(detail.HasSystemId ? detail.SystemId : id), detail.HasProcessId ? detail.ProcessId : null, result));
        }
        else
        {
            reply.Error = WireErrors.ToDetail(WireLimits.TooLarge("the reply", size, label, Truncated(id)));
        }
    }

    private static string? Truncated(string? text) => text is { Length: > 256 } ? text[..256] + "…" : text;

    private static SessionMessage ErrorReply(ulong call, HcsException error) =>
        new() { Reply = new Reply { Call = call, Error = WireErrors.ToDetail(error) } };

    private Task InvokeAsync(ServerSession session, Request request, Reply reply, CancellationToken ct) => request.VerbCase switch
    {
        Request.VerbOneofCase.CreateSystem => HandleAsync(session, reply, session.Inner.CreateSystemAsync(request.CreateSystem.Id, request.CreateSystem.Configuration, ct)),
        Request.VerbOneofCase.OpenSystem => HandleAsync(session, reply, session.Inner.OpenSystemAsync(request.OpenSystem.Id, ct)),
        Request.VerbOneofCase.EnumerateSystems => JsonAsync(reply, session.Inner.EnumerateSystemsAsync(Optional(request.EnumerateSystems), ct)),
        Request.VerbOneofCase.GetServiceProperties => JsonAsync(reply, session.Inner.GetServicePropertiesAsync(Optional(request.GetServiceProperties), ct)),
        Request.VerbOneofCase.SubmitWerReport => JsonAsync(reply, session.Inner.SubmitWerReportAsync(request.SubmitWerReport.Json ?? "", ct)),
        Request.VerbOneofCase.GrantAccess => GrantAsync(session, reply, request.GrantAccess, ct),
        Request.VerbOneofCase.SystemCall => SystemCallAsync(session, reply, request.SystemCall, ct),
        Request.VerbOneofCase.CreateProcess => ProcessAsync(session, reply,
            session.System(request.CreateProcess.SystemHandle, OperationLabels.CreateProcess).CreateProcessAsync(request.CreateProcess.Parameters, ct)),
        Request.VerbOneofCase.OpenProcess => ProcessAsync(session, reply,
            session.System(request.OpenProcess.SystemHandle, OperationLabels.OpenProcess).OpenProcessAsync(request.OpenProcess.ProcessId, ct)),
        Request.VerbOneofCase.ProcessCall => ProcessCallAsync(session, reply, request.ProcessCall, ct),
        Request.VerbOneofCase.CloseHandle => CloseAsync(session, reply, request.CloseHandle.Handle),
        _ => throw new HcsException(HResults.E_INVALIDARG, OperationLabels.ServiceCall, null, null, ResultError.From(HResults.E_INVALIDARG, "the request names no verb this service knows")),
    };

    private static async Task HandleAsync(ServerSession session, Reply reply, Task<ISystemHandle> opening)
    {
        var handle = await opening.ConfigureAwait(false);
        reply.Handle = new HandleReply { Handle = session.Add(handle), Id = handle.Id };
    }

    private static async Task ProcessAsync(ServerSession session, Reply reply, Task<IProcessHandle> opening)
    {
        var process = await opening.ConfigureAwait(false);
        reply.Process = new ProcessReply
        {
            Handle = session.Add(process),
            ProcessId = process.ProcessId,
            HasStdin = process.Stdio?.StdIn is not null,
            HasStdout = process.Stdio?.StdOut is not null,
            HasStderr = process.Stdio?.StdErr is not null,
        };
    }

    private static async Task JsonAsync(Reply reply, Task<string> call)
    {
        reply.Json = new JsonReply { Json = await call.ConfigureAwait(false) };
    }

    private static async Task DoneAsync(Reply reply, Task call)
    {
        await call.ConfigureAwait(false);
        reply.Json = new JsonReply();
    }

    private async Task GrantAsync(ServerSession session, Reply reply, GrantAccessRequest request, CancellationToken ct)
    {
        await session.Inner.GrantAccessAsync(request.Id, request.Uid, ct).ConfigureAwait(false);
        Log.AccessGranted(_log, request.Id, request.Uid, session.Peer.Uid);
        reply.Json = new JsonReply();
    }

    private static Task SystemCallAsync(ServerSession session, Reply reply, SystemCallRequest request, CancellationToken ct)
    {
        var handle = session.System(request.Handle, WireVerbs.LabelOf(request.Verb));
        var json = request.HasJson ? request.Json : null;
        return request.Verb switch
        {
            SystemVerb.WaitForCreated => DoneAsync(reply, handle.WaitForCreatedAsync(ct)),
            SystemVerb.Start => DoneAsync(reply, handle.StartAsync(json, ct)),
            SystemVerb.ShutDown => DoneAsync(reply, handle.ShutDownAsync(json, ct)),
            SystemVerb.Terminate => DoneAsync(reply, handle.TerminateAsync(json, ct)),
            SystemVerb.Pause => DoneAsync(reply, handle.PauseAsync(json, ct)),
            SystemVerb.Resume => DoneAsync(reply, handle.ResumeAsync(json, ct)),
            SystemVerb.Save => DoneAsync(reply, handle.SaveAsync(json, ct)),
            SystemVerb.Crash => DoneAsync(reply, handle.CrashAsync(json, ct)),
            SystemVerb.Modify => DoneAsync(reply, handle.ModifyAsync(json ?? "", ct)),
            SystemVerb.GetProperties => JsonAsync(reply, handle.GetPropertiesAsync(json, ct)),
            SystemVerb.WaitForExit => JsonAsync(reply, handle.WaitForExitAsync(ct)),
            _ => throw new HcsException(HResults.E_INVALIDARG, OperationLabels.SystemCall, handle.Id),
        };
    }

    private static Task ProcessCallAsync(ServerSession session, Reply reply, ProcessCallRequest request, CancellationToken ct)
    {
        var process = session.Process(request.Handle, WireVerbs.LabelOf(request.Verb));
        var json = request.HasJson ? request.Json : null;
        return request.Verb switch
        {
            ProcessVerb.Signal => DoneAsync(reply, process.SignalAsync(json, ct)),
            ProcessVerb.ProcessTerminate => DoneAsync(reply, process.TerminateAsync(ct)),
            ProcessVerb.ProcessGetProperties => JsonAsync(reply, process.GetPropertiesAsync(json, ct)),
            ProcessVerb.ProcessModify => DoneAsync(reply, process.ModifyAsync(json ?? "", ct)),
            ProcessVerb.ProcessWaitForExit => JsonAsync(reply, process.WaitForExitAsync(ct)),
            _ => throw new HcsException(HResults.E_INVALIDARG, OperationLabels.ProcessCall),
        };
    }

    private static async Task CloseAsync(ServerSession session, Reply reply, ulong handle)
    {
        await session.CloseAsync(handle).ConfigureAwait(false);
        reply.Json = new JsonReply();
    }

    /// <summary>The label and system id a failure of <paramref name="request"/> is reported under when the engine gave none.</summary>
    private static (string Label, string? Id) Describe(Request request) => request.VerbCase switch
    {
        Request.VerbOneofCase.CreateSystem => (OperationLabels.CreateSystem, request.CreateSystem.Id),
        Request.VerbOneofCase.OpenSystem => (OperationLabels.OpenSystem, request.OpenSystem.Id),
        Request.VerbOneofCase.EnumerateSystems => (OperationLabels.EnumerateSystems, null),
        Request.VerbOneofCase.GetServiceProperties => (OperationLabels.GetServiceProperties, null),
        Request.VerbOneofCase.SubmitWerReport => (OperationLabels.SubmitWerReport, null),
        Request.VerbOneofCase.GrantAccess => (OperationLabels.GrantAccess, request.GrantAccess.Id),
        Request.VerbOneofCase.SystemCall => (WireVerbs.LabelOf(request.SystemCall.Verb), null),
        Request.VerbOneofCase.CreateProcess => (OperationLabels.CreateProcess, null),
        Request.VerbOneofCase.OpenProcess => (OperationLabels.OpenProcess, null),
        Request.VerbOneofCase.ProcessCall => (WireVerbs.LabelOf(request.ProcessCall.Verb), null),
        Request.VerbOneofCase.CloseHandle => (OperationLabels.CloseHandle, null),
        _ => (OperationLabels.ServiceCall, null),
    };

    public override async Task ProcessStdio(IAsyncStreamReader<StdioChunk> requestStream, IServerStreamWriter<StdioChunk> responseStream, ServerCallContext context)
    {
        ProcessStdio stdio;
        try
        {
            var session = SessionOf(context, OperationLabels.ProcessStdio);
            if (!await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
            {
                return;
            }

            stdio = session.ClaimStdio(requestStream.Current.Handle);
        }
        catch (HcsException e)
        {
            throw WireErrors.ToRpcException(e);
        }

        await StdioPump.RunAsync(stdio, requestStream, responseStream, context.CancellationToken).ConfigureAwait(false);
    }

    private ServerSession SessionOf(ServerCallContext context, string label)
    {
        var id = context.RequestHeaders.GetValue(WireErrors.SessionHeader);
        if (id is null || !_sessions.TryGetValue(id, out var session))
        {
            throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, null, null,
                ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, "no such session on this service (it ended, or the service restarted)"));
        }

        if (PeerOf(context).Uid != session.Peer.Uid)
        {
            throw new HcsException(HResults.HCS_E_ACCESS_DENIED, label, null, null,
                ResultError.From(HResults.HCS_E_ACCESS_DENIED, "the session belongs to another user"));
        }

        return session;
    }

    private PeerCredentials PeerOf(ServerCallContext context)
    {
        var connection = context.GetHttpContext().Connection.Id;
        return _peers.Find(connection) ?? throw new RpcException(new Status(StatusCode.PermissionDenied, "hcsd: the peer's credentials are unknown"));
    }

    private static string? Optional(QueryRequest request) => request.HasJson ? request.Json : null;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "session {SessionId} opened by {ClientName} (pid {Pid}, uid {Uid})")]
        public static partial void SessionOpened(ILogger logger, string sessionId, string clientName, int pid, uint uid);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "session {SessionId} closed with {Handles} handles open (daemon stopping: {Stopping})")]
        public static partial void SessionClosed(ILogger logger, string sessionId, int handles, bool stopping);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "system {SystemId}: access granted to uid {Uid} by uid {GrantedBy}")]
        public static partial void AccessGranted(ILogger logger, string systemId, uint uid, uint grantedBy);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "session {SessionId} (pid {Pid}, uid {Uid}) sent a frame hcsd cannot read; the session is ended: {Reason}")]
        public static partial void MalformedFrame(ILogger logger, string sessionId, int pid, uint uid, string reason);

        [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "a session stream of pid {Pid} (uid {Uid}) sent no `open` within {Seconds} s and is ended ({Cause})")]
        public static partial void OpenTimedOut(ILogger logger, int pid, uint uid, double seconds, string cause);
    }
}
