// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;
using Microsoft.Extensions.Logging;

namespace Hcs.Daemon;

/// <summary>
/// The gRPC service: a thin adapter from the wire to <see cref="IComputeService"/>. Every call runs as the session
/// named in its <c>hcs-session</c> header, which must belong to the same uid as the connection it arrives on
/// (<c>SO_PEERCRED</c>); every failure leaves as HRESULT + ResultError (<see cref="WireErrors"/>).
/// </summary>
internal sealed partial class ComputeServiceAdapter : ComputeService.ComputeServiceBase
{
    private const int StdioChunkSize = 64 * 1024;
    private static readonly TimeSpan TurnBound = TimeSpan.FromMilliseconds(250);
    private readonly IComputeService _service;
    private readonly PeerTable _peers;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, ServerSession> _sessions = new(StringComparer.Ordinal);
    private volatile bool _stopping;

    public ComputeServiceAdapter(IComputeService service, PeerTable peers, ILogger log)
    {
        _service = service;
        _peers = peers;
        _log = log;
    }

    public int SessionCount => _sessions.Count;

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

    public override async Task OpenSession(OpenSessionRequest request, IServerStreamWriter<SessionMessage> responseStream, ServerCallContext context)
    {
        var peer = PeerOf(context);
        if (_stopping)
        {
            throw WireErrors.ToRpcException(new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, "Service.Connect"));
        }

        IComputeSession inner;
        try
        {
            var name = string.IsNullOrWhiteSpace(request.ClientName) ? "client" : request.ClientName;
            inner = _service.OpenSession(new ClientIdentity(name, peer.Uid, peer.Pid));
        }
        catch (HcsException e)
        {
            throw WireErrors.ToRpcException(e);
        }

        var session = new ServerSession(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), peer, inner);
        _sessions[session.Id] = session;
        Log.SessionOpened(_log, session.Id, request.ClientName, peer.Pid, peer.Uid);
        try
        {
            await responseStream.WriteAsync(new SessionMessage
            {
                Opened = new Opened { SessionId = session.Id, PeerUid = peer.Uid, PeerPid = peer.Pid },
            }, context.CancellationToken).ConfigureAwait(false);
            var outbox = session.Outbox;
            while (await outbox.WaitToReadAsync(context.CancellationToken).ConfigureAwait(false))
            {
                while (outbox.TryRead(out var message))
                {
                    await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away (or cancelled its session).
        }
        catch (InvalidOperationException)
        {
            // The response stream is already complete (the connection is closing).
        }
        finally
        {
            _sessions.TryRemove(session.Id, out _);
            Log.SessionClosed(_log, session.Id, session.HandleCount, _stopping);
            if (!_stopping)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public override Task<HandleReply> CreateSystem(CreateSystemRequest request, ServerCallContext context) =>
        Call(context, "ComputeSystem.Create", request.Id, async session =>
        {
            var handle = await session.Inner.CreateSystemAsync(request.Id, request.Configuration, context.CancellationToken).ConfigureAwait(false);
            return new HandleReply { Handle = session.Add(handle), Id = handle.Id, EventsThrough = session.EventsThrough };
        });

    public override Task<HandleReply> OpenSystem(OpenSystemRequest request, ServerCallContext context) =>
        Call(context, "ComputeSystem.Open", request.Id, async session =>
        {
            var handle = await session.Inner.OpenSystemAsync(request.Id, context.CancellationToken).ConfigureAwait(false);
            return new HandleReply { Handle = session.Add(handle), Id = handle.Id, EventsThrough = session.EventsThrough };
        });

    public override Task<JsonReply> EnumerateSystems(QueryRequest request, ServerCallContext context) =>
        Json(context, "ComputeSystem.Enumerate", null, session => ValueAsync(session.Inner.EnumerateSystemsAsync(Optional(request), context.CancellationToken)));

    public override Task<JsonReply> GetServiceProperties(QueryRequest request, ServerCallContext context) =>
        Json(context, "Service.GetProperties", null, session => ValueAsync(session.Inner.GetServicePropertiesAsync(Optional(request), context.CancellationToken)));

    public override Task<JsonReply> SubmitWerReport(QueryRequest request, ServerCallContext context) =>
        Json(context, "Service.SubmitWerReport", null, session => ValueAsync(session.Inner.SubmitWerReportAsync(request.Json ?? "", context.CancellationToken)));

    public override Task<JsonReply> GrantAccess(GrantAccessRequest request, ServerCallContext context) =>
        Json(context, "ComputeSystem.GrantAccess", request.Id, async session =>
        {
            await session.Inner.GrantAccessAsync(request.Id, request.Uid, context.CancellationToken).ConfigureAwait(false);
            Log.AccessGranted(_log, request.Id, request.Uid, session.Peer.Uid);
            return null;
        });

    public override Task<JsonReply> SystemCall(SystemCallRequest request, ServerCallContext context) =>
        Json(context, LabelOf(request.Verb), null, session =>
        {
            var handle = session.System(request.Handle, LabelOf(request.Verb));
            var json = request.HasJson ? request.Json : null;
            var ct = context.CancellationToken;
            return request.Verb switch
            {
                SystemVerb.WaitForCreated => Done(handle.WaitForCreatedAsync(ct)),
                SystemVerb.Start => Done(handle.StartAsync(json, ct)),
                SystemVerb.ShutDown => Done(handle.ShutDownAsync(json, ct)),
                SystemVerb.Terminate => Done(handle.TerminateAsync(json, ct)),
                SystemVerb.Pause => Done(handle.PauseAsync(json, ct)),
                SystemVerb.Resume => Done(handle.ResumeAsync(json, ct)),
                SystemVerb.Save => Done(handle.SaveAsync(json, ct)),
                SystemVerb.Crash => Done(handle.CrashAsync(json, ct)),
                SystemVerb.Modify => Done(handle.ModifyAsync(json ?? "", ct)),
                SystemVerb.GetProperties => ValueAsync(handle.GetPropertiesAsync(json, ct)),
                SystemVerb.WaitForExit => ValueAsync(handle.WaitForExitAsync(ct)),
                _ => throw new HcsException(HResults.E_INVALIDARG, "ComputeSystem.Call", handle.Id),
            };
        });

    public override Task<ProcessReply> CreateProcess(CreateProcessRequest request, ServerCallContext context) =>
        Call(context, "ComputeProcess.Create", null, async session =>
        {
            var system = session.System(request.SystemHandle, "ComputeProcess.Create");
            var process = await system.CreateProcessAsync(request.Parameters, context.CancellationToken).ConfigureAwait(false);
            return Reply(session, process);
        });

    public override Task<ProcessReply> OpenProcess(OpenProcessRequest request, ServerCallContext context) =>
        Call(context, "ComputeProcess.Open", null, async session =>
        {
            var system = session.System(request.SystemHandle, "ComputeProcess.Open");
            var process = await system.OpenProcessAsync(request.ProcessId, context.CancellationToken).ConfigureAwait(false);
            return Reply(session, process);
        });

    public override Task<JsonReply> ProcessCall(ProcessCallRequest request, ServerCallContext context) =>
        Json(context, LabelOf(request.Verb), null, session =>
        {
            var process = session.Process(request.Handle, LabelOf(request.Verb));
            var json = request.HasJson ? request.Json : null;
            var ct = context.CancellationToken;
            return request.Verb switch
            {
                ProcessVerb.Signal => Done(process.SignalAsync(json, ct)),
                ProcessVerb.ProcessTerminate => Done(process.TerminateAsync(ct)),
                ProcessVerb.ProcessGetProperties => ValueAsync(process.GetPropertiesAsync(json, ct)),
                ProcessVerb.ProcessModify => Done(process.ModifyAsync(json ?? "", ct)),
                ProcessVerb.ProcessWaitForExit => ValueAsync(process.WaitForExitAsync(ct)),
                _ => throw new HcsException(HResults.E_INVALIDARG, "ComputeProcess.Call"),
            };
        });

    public override Task<JsonReply> CloseHandle(CloseHandleRequest request, ServerCallContext context) =>
        Json(context, "CloseHandle", null, async session =>
        {
            await session.CloseAsync(request.Handle).ConfigureAwait(false);
            return null;
        });

    public override async Task ProcessStdio(IAsyncStreamReader<StdioChunk> requestStream, IServerStreamWriter<StdioChunk> responseStream, ServerCallContext context)
    {
        ProcessStdio stdio;
        try
        {
            var session = SessionOf(context, "ComputeProcess.Stdio");
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

        var ct = context.CancellationToken;
        var writeGate = new SemaphoreSlim(1, 1);
        async Task Send(StdioChunk chunk)
        {
            await writeGate.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await responseStream.WriteAsync(chunk, ct).ConfigureAwait(false);
            }
            finally
            {
                writeGate.Release();
            }
        }

        async Task CopyOut(Stream? source, StdioStream which)
        {
            if (source is null)
            {
                return;
            }

            var buffer = new byte[StdioChunkSize];
            int n;
            while ((n = await source.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                await Send(new StdioChunk { Stream = which, Data = ByteString.CopyFrom(buffer, 0, n) }).ConfigureAwait(false);
            }

            await Send(new StdioChunk { Stream = which, Eof = true }).ConfigureAwait(false);
        }

        async Task CopyIn()
        {
            var sink = stdio.StdIn;
            try
            {
                while (await requestStream.MoveNext(ct).ConfigureAwait(false))
                {
                    var chunk = requestStream.Current;
                    if (sink is not null && !chunk.Data.IsEmpty)
                    {
                        await sink.WriteAsync(chunk.Data.Memory, ct).ConfigureAwait(false);
                        await sink.FlushAsync(ct).ConfigureAwait(false);
                    }

                    if (chunk.Eof)
                    {
                        break;
                    }
                }
            }
            catch (IOException)
            {
                // The process closed its stdin (exited): what the client still sends is dropped, as a pipe would.
            }
            finally
            {
                if (sink is not null)
                {
                    await sink.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        try
        {
            var input = CopyIn();
            await Task.WhenAll(CopyOut(stdio.StdOut, StdioStream.Stdout), CopyOut(stdio.StdErr, StdioStream.Stderr)).ConfigureAwait(false);
            _ = input.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
        catch (IOException)
        {
            // The client went away.
        }
    }

    private async Task<TReply> Call<TReply>(ServerCallContext context, string label, string? id, Func<ServerSession, Task<TReply>> call)
    {
        try
        {
            var session = SessionOf(context, label);
            var number = CallNumberOf(context);
            if (number == 0)
            {
                return await call(session).ConfigureAwait(false);
            }

            await session.WaitTurnAsync(number, TurnBound, context.CancellationToken).ConfigureAwait(false);
            Task<TReply> running;
            try
            {
                running = call(session);
            }
            finally
            {
                session.Entered(number);
            }

            return await running.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not RpcException)
        {
            throw WireErrors.ToRpcException(HcsException.Wrap(e, label, id));
        }
    }

    private Task<JsonReply> Json(ServerCallContext context, string label, string? id, Func<ServerSession, Task<string?>> call) =>
        Call(context, label, id, async session =>
        {
            var json = await call(session).ConfigureAwait(false);
            var reply = new JsonReply { EventsThrough = session.EventsThrough };
            if (json is not null)
            {
                reply.Json = json;
            }

            return reply;
        });

    private static ulong CallNumberOf(ServerCallContext context) =>
        context.RequestHeaders.GetValue(WireErrors.CallHeader) is { } text
            && ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : 0;

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

    private static ProcessReply Reply(ServerSession session, IProcessHandle process) => new()
    {
        Handle = session.Add(process),
        ProcessId = process.ProcessId,
        HasStdin = process.Stdio?.StdIn is not null,
        HasStdout = process.Stdio?.StdOut is not null,
        HasStderr = process.Stdio?.StdErr is not null,
        EventsThrough = session.EventsThrough,
    };

    private static string? Optional(QueryRequest request) => request.HasJson ? request.Json : null;

    private static async Task<string?> ValueAsync(Task<string> task) => await task.ConfigureAwait(false);

    private static async Task<string?> Done(Task task)
    {
        await task.ConfigureAwait(false);
        return null;
    }

    private static string LabelOf(SystemVerb verb) => verb switch
    {
        SystemVerb.WaitForCreated => "ComputeSystem.Create",
        SystemVerb.Start => "ComputeSystem.Start",
        SystemVerb.ShutDown => "ComputeSystem.ShutDown",
        SystemVerb.Terminate => "ComputeSystem.Terminate",
        SystemVerb.Pause => "ComputeSystem.Pause",
        SystemVerb.Resume => "ComputeSystem.Resume",
        SystemVerb.Save => "ComputeSystem.Save",
        SystemVerb.Crash => "ComputeSystem.Crash",
        SystemVerb.Modify => "ComputeSystem.Modify",
        SystemVerb.GetProperties => "ComputeSystem.GetProperties",
        SystemVerb.WaitForExit => "ComputeSystem.WaitForExit",
        _ => "ComputeSystem.Call",
    };

    private static string LabelOf(ProcessVerb verb) => verb switch
    {
        ProcessVerb.Signal => "ComputeProcess.Signal",
        ProcessVerb.ProcessTerminate => "ComputeProcess.Terminate",
        ProcessVerb.ProcessGetProperties => "ComputeProcess.GetProperties",
        ProcessVerb.ProcessModify => "ComputeProcess.Modify",
        ProcessVerb.ProcessWaitForExit => "ComputeProcess.WaitForExit",
        _ => "ComputeProcess.Call",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "session {SessionId} opened by {ClientName} (pid {Pid}, uid {Uid})")]
        public static partial void SessionOpened(ILogger logger, string sessionId, string clientName, int pid, uint uid);

        [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "session {SessionId} closed with {Handles} handles open (daemon stopping: {Stopping})")]
        public static partial void SessionClosed(ILogger logger, string sessionId, int handles, bool stopping);

        [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "system {SystemId}: access granted to uid {Uid} by uid {GrantedBy}")]
        public static partial void AccessGranted(ILogger logger, string systemId, uint uid, uint grantedBy);
    }
}
