// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Hcs.Daemon.Tests;

/// <summary>
/// What one client can make hcsd hold (docs/security.md, <i>Limits</i>): a client that never reads its replies stops
/// being read, calls in flight are capped per session and per uid (a cancel still reaches a waiting call), and the
/// session stream refuses what it cannot accept — no <c>open</c> in time, a frame it cannot read, a call number
/// already in flight — with an error, never silently.
/// </summary>
public sealed class DaemonLimitsTests : IAsyncDisposable
{
    private static readonly DaemonLimits s_small = new()
    {
        MaxOutboxBytes = 64 * 1024,
        MaxCallsPerSession = 4,
        MaxCallsPerUid = 6,
        MaxQueuedRequests = 64,
        MaxQueuedBytes = 64 * 1024,
        MaxSessionsPerUid = 8,
        MaxConnectionsPerUid = 12,
        OpenTimeout = TimeSpan.FromMilliseconds(300),
    };

    private readonly CapturingLogs _logs = new();
    private readonly FakeTimeProvider _openClock = new(); // OpenTimeout runs on it: no session here times out unless a test advances it
    private readonly DaemonFakeFixture _fixture;

    public DaemonLimitsTests()
    {
        _fixture = new DaemonFakeFixture(o => o with { Limits = s_small with { Time = _openClock } }, _logs);
        _ = _fixture.Service; // starts the daemon
    }

    public async ValueTask DisposeAsync()
    {
        await _fixture.DisposeAsync();
        _logs.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AClientThatNeverReadsItsReplies_StopsBeingRead_WithBoundedOutboxQueueAndCalls_WhileAnotherSessionIsServed()
    {
        using var channel = RawChannel();
        using var flood = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: Ct);
        await flood.RequestStream.WriteAsync(new ClientFrame { Open = new OpenSessionRequest { ClientName = "never-reads" } }, Ct);
        const int PerFrame = 200;
        using var stopFlood = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var writing = Task.Run(async () =>
        {
            // Writes until hcsd stops reading and HTTP/2 flow control blocks the write; never reads a reply.
            for (ulong call = 1; !stopFlood.IsCancellationRequested; call += PerFrame)
            {
                var frame = new ClientFrame();
                for (ulong i = 0; i < PerFrame; i++)
                {
                    frame.Requests.Add(new Request { Call = call + i, GetServiceProperties = new QueryRequest() });
                }

                await flood.RequestStream.WriteAsync(frame, stopFlood.Token);
            }
        }, Ct);

        var paused = await WaitForAsync(() => _fixture.Server.Sessions.FirstOrDefault(s => !s.Reading));

        // Another session of the same uid is served meanwhile. (The flood may be read again for a while: its client's
        // HTTP/2 receive window grows, so the writer can drain the outbox into it until that fills; reading pauses
        // again each time the outbox is over its bound, which the peaks below show.)
        var other = _fixture.Connect("well-behaved").Session;
        var properties = await other.GetServicePropertiesAsync(null, Ct);
        Assert.StartsWith("[", await other.EnumerateSystemsAsync(null, Ct), StringComparison.Ordinal);
        var stats = _fixture.Server.Sessions.Single(s => s.Id == paused.Id);

        // The bounds, structurally: a call starts only while the outbox is under its bound, so it can exceed it by the
        // replies of the calls in flight (and the one just posted); the queue by one frame's requests.
        var reply = new SessionMessage { Reply = new Reply { Call = ulong.MaxValue, Json = new JsonReply { Json = properties } } }.CalculateSize();
        Assert.InRange(stats.PeakOutboxBytes, 0, s_small.MaxOutboxBytes + ((s_small.MaxCallsPerSession + 1) * reply));
        Assert.InRange(stats.PeakCallsInFlight, 1, s_small.MaxCallsPerSession);
        Assert.InRange(stats.PeakQueuedRequests, 1, s_small.MaxQueuedRequests + PerFrame);
        Assert.True(stats.ReadPauses >= 1);

        // The flooding writer ends: cancelled inside a write that back-pressure holds, or between two writes.
        await stopFlood.CancelAsync();
        try
        {
            await writing;
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException)
        {
        }
    }

    [Fact]
    public async Task SessionsPerUid_AreCapped_WithNotEnoughQuota_AndAClosedSessionMakesRoom()
    {
        var open = new List<IComputeSession>();
        for (var i = 0; i < s_small.MaxSessionsPerUid; i++)
        {
            var session = _fixture.Connect($"s{i}").Session;
            await session.GetServicePropertiesAsync(null, Ct);
            open.Add(session);
        }

        var over = _fixture.Connect("over").Session;
        var e = await Assert.ThrowsAsync<HcsException>(() => over.GetServicePropertiesAsync(null, Ct));
        Assert.Equal(HResults.ERROR_NOT_ENOUGH_QUOTA, e.HResult);
        Assert.Contains("--max-sessions-per-uid", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(s_small.MaxSessionsPerUid, _fixture.Server.SessionsOf(0));

        await open[0].DisposeAsync();
        await WaitForAsync(() => _fixture.Server.SessionsOf(0) < s_small.MaxSessionsPerUid ? "room" : null);
        var again = _fixture.Connect("again").Session;
        await again.GetServicePropertiesAsync(null, Ct);
        Assert.Equal(s_small.MaxSessionsPerUid, _fixture.Server.SessionsOf(0));
    }

    [Fact]
    public async Task ConnectionsPerUid_AreCapped_TheOneOverIsClosed_AndAClosedOneMakesRoom()
    {
        var raw = new List<Socket>();
        try
        {
            // One connection at a time, each waited for until hcsd counts it (counting the sockets made as well as
            // hcsd's count would count an accepted one twice and stop short of the cap).
            while (_fixture.Server.ConnectionsOf(0) < s_small.MaxConnectionsPerUid)
            {
                var counted = _fixture.Server.ConnectionsOf(0);
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(_fixture.Socket), Ct);
                raw.Add(socket);
                await WaitForAsync(() => _fixture.Server.ConnectionsOf(0) > counted ? "counted" : null);
            }

            // One more: accepted by the kernel, closed by hcsd at once (it reads EOF), and never counted.
            using (var over = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                await over.ConnectAsync(new UnixDomainSocketEndPoint(_fixture.Socket), Ct);
                var read = await over.ReceiveAsync(new byte[64], SocketFlags.None, Ct);
                Assert.Equal(0, read);
            }

            Assert.Equal(s_small.MaxConnectionsPerUid, _fixture.Server.ConnectionsOf(0));

            raw[0].Dispose();
            raw.RemoveAt(0);
            await WaitForAsync(() => _fixture.Server.ConnectionsOf(0) < s_small.MaxConnectionsPerUid ? "room" : null);
            var session = _fixture.Connect("after").Session;
            await session.GetServicePropertiesAsync(null, Ct);
        }
        finally
        {
            foreach (var socket in raw)
            {
                socket.Dispose();
            }
        }
    }

    [Fact]
    public async Task CallsInFlight_AreCappedPerSessionAndPerUid_TheRestWaitInOrder_AndCancelsReachWaitingAndRunningCalls()
    {
        var id = _fixture.NewId("capped");
        var a = _fixture.Connect("a").Session;
        var b = _fixture.Connect("b").Session;
        await using var system = await a.CreateSystemAsync(id, _fixture.VmDocument("idle"), Ct);
        await system.StartAsync(null, Ct);
        await using var opened = await b.OpenSystemAsync(id, Ct);
        using var cancelQueued = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var cancelRunning = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        // Session a: 4 waits run (its cap), 2 wait in its queue; session b: 2 run (the uid's cap is 6), 2 wait.
        var aWaits = new List<Task<string>> { system.WaitForExitAsync(cancelRunning.Token) };
        aWaits.AddRange(Enumerable.Range(0, 3).Select(_ => system.WaitForExitAsync(Ct)));
        var queuedThenCancelled = system.WaitForExitAsync(cancelQueued.Token);
        var aLast = system.WaitForExitAsync(Ct);
        await WaitForAsync(() => Stats(a) is { CallsInFlight: 4, QueuedRequests: 2 } s ? s : null);
        var bWaits = Enumerable.Range(0, 4).Select(_ => opened.WaitForExitAsync(Ct)).ToList();
        await WaitForAsync(() => Stats(b) is { CallsInFlight: 2, QueuedRequests: 2 } s ? s : null);
        Assert.Equal((6, 6), _fixture.Server.CallsInFlight(0));

        // A cancel reaches a call still waiting for a slot: it fails at once, without ever starting.
        await cancelQueued.CancelAsync();
        var e = await Assert.ThrowsAsync<HcsException>(() => queuedThenCancelled.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(HResults.ERROR_CANCELLED, e.HResult);
        Assert.Equal("ComputeSystem.WaitForExit", e.Operation);

        // A cancel reaches a running call; its slot goes to a waiting call of the uid (a's or b's, each in its order).
        await cancelRunning.CancelAsync();
        e = await Assert.ThrowsAsync<HcsException>(() => aWaits[0].WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(HResults.ERROR_CANCELLED, e.HResult);
        await WaitForAsync(() => _fixture.Server.CallsInFlight(0).Running == 6 && Stats(a)!.QueuedRequests + Stats(b)!.QueuedRequests == 2 ? "" : null);

        // When the system stops every wait completes, queued ones included, and no cap was ever exceeded.
        var root = _fixture.Engine.OpenSession(new ClientIdentity("root"));
        await using (var handle = await root.OpenSystemAsync(id, Ct))
        {
            await handle.TerminateAsync(null, Ct);
        }

        await root.DisposeAsync();
        await Task.WhenAll([.. aWaits.Skip(1), aLast, .. bWaits]).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(4, Stats(a)!.PeakCallsInFlight);
        Assert.InRange(Stats(b)!.PeakCallsInFlight, 2, 4);
        Assert.Equal(6, _fixture.Server.CallsInFlight(0).Peak);
    }

    [Fact]
    public async Task ClosingAHandle_NeverWaitsBehindTheCallsThatHoldEverySlot()
    {
        var session = _fixture.Connect("closer").Session;
        var system = await session.CreateSystemAsync(_fixture.NewId("closed"), _fixture.VmDocument("idle"), Ct);
        await system.StartAsync(null, Ct);
        var waits = Enumerable.Range(0, 6).Select(_ => system.WaitForExitAsync(Ct)).ToList();
        await WaitForAsync(() => Stats(session) is { CallsInFlight: 4, QueuedRequests: 2 } s ? s : null);

        // The close goes ahead of the queued waits (it needs no slot), so a saturated client can always let go.
        var id = system.Id;
        await system.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);

        // Running waits go on, as in process; the queued ones start once the system ends, on a closed handle.
        var root = _fixture.Engine.OpenSession(new ClientIdentity("root"));
        await using (var handle = await root.OpenSystemAsync(id, Ct))
        {
            await handle.TerminateAsync(null, Ct);
        }

        await root.DisposeAsync();
        foreach (var wait in waits.Take(4))
        {
            Assert.Contains("ForcedExit", await wait.WaitAsync(TimeSpan.FromSeconds(10), Ct), StringComparison.Ordinal);
        }

        foreach (var wait in waits.Skip(4))
        {
            var e = await Assert.ThrowsAsync<HcsException>(() => wait.WaitAsync(TimeSpan.FromSeconds(10), Ct));
            Assert.Equal(HResults.E_HANDLE, e.HResult);
        }

        Assert.Equal(4, Stats(session)!.PeakCallsInFlight);
    }

    [Fact]
    public async Task ADuplicateCallNumberInFlight_IsRefused_AndTheOriginalCallIsUnaffected()
    {
        var id = _fixture.NewId("dup");
        await using var owner = await _fixture.Engine.OpenSession(new ClientIdentity("owner")).CreateSystemAsync(id, _fixture.VmDocument("idle"), Ct);
        await owner.StartAsync(null, Ct);
        using var channel = RawChannel();
        using var session = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: Ct);
        await session.RequestStream.WriteAsync(new ClientFrame
        {
            Open = new OpenSessionRequest { ClientName = "dup" },
            Requests = { new Request { Call = 1, OpenSystem = new OpenSystemRequest { Id = id } } },
        }, Ct);
        var handle = (await ReplyAsync(session, 1)).Handle.Handle;

        await session.RequestStream.WriteAsync(new ClientFrame
        {
            Requests =
            {
                new Request { Call = 2, SystemCall = new SystemCallRequest { Handle = handle, Verb = Protocol.SystemVerb.WaitForExit } },
                new Request { Call = 2, SystemCall = new SystemCallRequest { Handle = handle, Verb = Protocol.SystemVerb.GetProperties } },
            },
        }, Ct);

        var duplicate = await ReplyAsync(session, 2);
        Assert.Equal(Reply.ResultOneofCase.Error, duplicate.ResultCase);
        Assert.Equal(HResults.E_INVALIDARG, duplicate.Error.Hresult);
        Assert.Contains("call number 2 is already in flight", WireErrors.FromDetail(duplicate.Error).Message, StringComparison.Ordinal);

        // The original wait is still waiting, and gets its own result when the system stops.
        await owner.TerminateAsync(null, Ct);
        var original = await ReplyAsync(session, 2);
        Assert.Equal(Reply.ResultOneofCase.Json, original.ResultCase);
        Assert.Contains("ForcedExit", original.Json.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASessionStreamThatNeverSendsOpen_IsEndedWithTimeout_AndLogged()
    {
        using var channel = RawChannel();
        using var session = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: Ct);

        // Nothing is sent: hcsd ends the stream once OpenTimeout (300 ms here) has passed on its clock, which the test
        // advances until that end arrives.
        var ended = session.ResponseStream.MoveNext(Ct);
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!ended.IsCompleted && bound.Elapsed < TimeSpan.FromSeconds(30))
        {
            _openClock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.WhenAny(ended, Task.Delay(10, Ct));
        }

        var e = await Assert.ThrowsAsync<RpcException>(() => ended.WaitAsync(TimeSpan.FromSeconds(1), Ct));

        var hcs = WireErrors.ToHcsException(e, "test");
        Assert.Equal(HResults.ERROR_TIMEOUT, hcs.HResult);
        Assert.Contains("no `open` within 0.3 s", hcs.Message, StringComparison.Ordinal);
        Assert.Contains(_logs.Lines, l => l.Contains("sent no `open` within 0.3 s", StringComparison.Ordinal));
        Assert.Equal(0, _fixture.Server.SessionCount);
    }

    [Fact]
    public async Task AFrameHcsdCannotRead_IsLogged_AndTheSessionEndsWithAProtocolError()
    {
        using var channel = RawChannel();
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "hcs.v1.ComputeService", "Session",
            Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        using var session = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, new CallOptions(cancellationToken: Ct));
        await session.RequestStream.WriteAsync(new ClientFrame { Open = new OpenSessionRequest { ClientName = "garbage" } }.ToByteArray(), Ct);
        Assert.True(await session.ResponseStream.MoveNext(Ct));
        Assert.Equal(SessionMessage.KindOneofCase.Opened, ServiceFrame.Parser.ParseFrom(session.ResponseStream.Current).Messages[0].KindCase);

        await session.RequestStream.WriteAsync([0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01], Ct); // a length past the end

        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await session.ResponseStream.MoveNext(Ct))
            {
            }
        });
        var hcs = WireErrors.ToHcsException(e, "test");
        Assert.Equal(HResults.HCS_E_PROTOCOL_ERROR, hcs.HResult);
        Assert.Contains("could not read a frame", hcs.Message, StringComparison.Ordinal);
        Assert.Contains(_logs.Lines, l => l.Contains("sent a frame hcsd cannot read", StringComparison.Ordinal));
    }

    private DaemonSessionStatistics? Stats(IComputeSession session)
    {
        // The daemon names sessions by id; the fixture's sessions are told apart by the order in which they opened.
        var name = session.Client.Name;
        return _fixture.Server.Sessions.FirstOrDefault(s => _logs.Lines.Any(l => l.Contains($"session {s.Id} opened by {name} ", StringComparison.Ordinal)));
    }

    private static async Task<Reply> ReplyAsync(AsyncDuplexStreamingCall<ClientFrame, ServiceFrame> session, ulong call)
    {
        while (await session.ResponseStream.MoveNext(Ct))
        {
            if (session.ResponseStream.Current.Messages.FirstOrDefault(m => m.KindCase == SessionMessage.KindOneofCase.Reply && m.Reply.Call == call) is { } message)
            {
                return message.Reply;
            }
        }

        throw new InvalidOperationException($"the session ended before call {call} replied");
    }

    /// <summary>Polls the daemon's own counters until <paramref name="probe"/> finds what it waits for (bounded).</summary>
    private static async Task<T> WaitForAsync<T>(Func<T?> probe)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            if (probe() is { } found)
            {
                return found;
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    private GrpcChannel RawChannel()
    {
        var socket = _fixture.Socket;
        return GrpcChannel.ForAddress("http://hcsd", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var connection = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                    return new NetworkStream(connection, ownsSocket: true);
                },
            },
        });
    }
}

/// <summary>A logger factory that keeps every line (tests look for what hcsd logged).</summary>
internal sealed class CapturingLogs : ILoggerFactory, ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLogs logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (logs._lines)
            {
                logs._lines.Add(formatter(state, exception));
            }
        }
    }
}
