// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Protocol;

namespace Hcs.Daemon.Tests;

/// <summary>
/// The session stream itself: many calls share one stream, so replies must find their callers, calls must enter the
/// engine in the order they were made, a cancel must reach the engine, and a malformed stream must be refused clearly.
/// </summary>
public sealed class SessionStreamTests : IAsyncLifetime
{
    private readonly DaemonFakeFixture _fixture = new();

    public ValueTask InitializeAsync()
    {
        _ = _fixture.Service; // starts the daemon
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ManyCallsInFlightOnOneSession_EachGetsTheReplyToItsOwnCall()
    {
        var session = _fixture.Connect("many").Session;
        var handles = new List<ISystemHandle>();
        for (var i = 0; i < 8; i++)
        {
            var handle = await session.CreateSystemAsync(_fixture.NewId($"many{i}"), _fixture.VmDocument("idle"), Ct);
            await handle.WaitForCreatedAsync(Ct);
            handles.Add(handle);
        }

        // 400 calls outstanding at once on one stream (they travel batched): each reply names the system it was asked about.
        var calls = Enumerable.Range(0, 400).Select(i => (Handle: handles[i % handles.Count], Reply: handles[i % handles.Count].GetPropertiesAsync(null, Ct))).ToList();
        await Task.WhenAll(calls.Select(c => c.Reply));

        foreach (var (handle, reply) in calls)
        {
            Assert.Equal(handle.Id, HcsJson.Deserialize<Properties>(await reply).Id);
        }
    }

    [Fact]
    public async Task CallsOfOneSession_EnterTheEngineInTheOrderTheyWereMade_AsInProcess()
    {
        // Open is made right after Create, without waiting for it: it finds the system only if Create entered first.
        var local = _fixture.Engine.OpenSession(new ClientIdentity("local"));
        Assert.Equal(50, await CreateThenOpenAsync(local, "local"));
        await local.DisposeAsync();

        Assert.Equal(50, await CreateThenOpenAsync(_fixture.Connect("ordered").Session, "remote"));
    }

    [Fact]
    public async Task ACancelledCall_FailsWithCancelled_AndTheSessionCarriesOn()
    {
        var session = _fixture.Connect("cancelling").Session;
        await using var handle = await session.CreateSystemAsync(_fixture.NewId("waited"), _fixture.VmDocument("idle"), Ct);
        await handle.StartAsync(null, Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = handle.WaitForExitAsync(cancel.Token);
        await Task.Delay(100, Ct);
        Assert.False(waiting.IsCompleted);

        await cancel.CancelAsync();

        var e = await Assert.ThrowsAsync<HcsException>(() => waiting);
        Assert.Equal(HResults.ERROR_CANCELLED, e.HResult);
        Assert.Equal("ComputeSystem.WaitForExit", e.Operation);
        Assert.Equal(SystemState.Running, HcsJson.Deserialize<Properties>(await handle.GetPropertiesAsync(null, Ct)).State);
        await handle.TerminateAsync(null, Ct);
    }

    [Fact]
    public async Task AStreamThatDoesNotOpenWithOpen_IsRefusedWithInvalidArg()
    {
        using var channel = RawChannel();
        using var call = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: Ct);

        await call.RequestStream.WriteAsync(new ClientFrame { Requests = { new Request { Call = 1, EnumerateSystems = new QueryRequest() } } }, Ct);

        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(Ct));
        var hcs = WireErrors.ToHcsException(e, "test");
        Assert.Equal(HResults.E_INVALIDARG, hcs.HResult);
        Assert.Contains("`open`", hcs.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequestNamingNoVerb_GetsAnInvalidArgReply_AndTheSessionCarriesOn()
    {
        using var channel = RawChannel();
        using var call = new ComputeService.ComputeServiceClient(channel).Session(cancellationToken: Ct);

        await call.RequestStream.WriteAsync(new ClientFrame
        {
            Open = new OpenSessionRequest { ClientName = "raw" },
            Requests = { new Request { Call = 7 }, new Request { Call = 8, EnumerateSystems = new QueryRequest() } },
        }, Ct);

        var replies = new Dictionary<ulong, Reply>();
        while (replies.Count < 2 && await call.ResponseStream.MoveNext(Ct))
        {
            foreach (var message in call.ResponseStream.Current.Messages.Where(m => m.KindCase == SessionMessage.KindOneofCase.Reply))
            {
                replies[message.Reply.Call] = message.Reply;
            }
        }

        Assert.Equal(Reply.ResultOneofCase.Error, replies[7].ResultCase);
        Assert.Equal(HResults.E_INVALIDARG, replies[7].Error.Hresult);
        Assert.Equal(Reply.ResultOneofCase.Json, replies[8].ResultCase);
        Assert.StartsWith("[", replies[8].Json.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStdioStreamNamingAnotherUidsSession_IsRefusedWithAccessDenied()
    {
        using var rootChannel = RawChannel();
        using var session = new ComputeService.ComputeServiceClient(rootChannel).Session(cancellationToken: Ct);
        await session.RequestStream.WriteAsync(new ClientFrame { Open = new OpenSessionRequest { ClientName = "root" } }, Ct);
        Assert.True(await session.ResponseStream.MoveNext(Ct));
        var opened = session.ResponseStream.Current.Messages[0].Opened;
        Assert.Equal(0u, opened.PeerUid);

        // Nobody (uid 65534, in root's group so the socket admits it) names root's session on its own connection.
        using var nobodyChannel = RawChannel(() => PeerIdentity.ConnectAs(_fixture.Socket, 65534, 0));
        using var stdio = new ComputeService.ComputeServiceClient(nobodyChannel).ProcessStdio(
            new Metadata { { WireErrors.SessionHeader, opened.SessionId } }, cancellationToken: Ct);

        // hcsd checks the session before it reads anything, so the refusal is the stream's end, whatever was sent.
        var e = await Assert.ThrowsAsync<RpcException>(() => stdio.ResponseStream.MoveNext(Ct));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Equal(HResults.HCS_E_ACCESS_DENIED, WireErrors.ToHcsException(e, "test").HResult);
    }

    private async Task<int> CreateThenOpenAsync(IComputeSession session, string prefix)
    {
        var pairs = Enumerable.Range(0, 50).Select(i =>
        {
            var id = _fixture.NewId($"{prefix}{i}");
            return (Created: session.CreateSystemAsync(id, _fixture.VmDocument("idle"), Ct), Opened: session.OpenSystemAsync(id, Ct));
        }).ToList();
        var opened = 0;
        foreach (var (created, open) in pairs)
        {
            await using var first = await created;
            await using var second = await open;
            opened += second.Id == first.Id ? 1 : 0;
            await first.TerminateAsync(null, Ct);
        }

        return opened;
    }

    private GrpcChannel RawChannel(Func<Stream>? connectAs = null)
    {
        var socket = _fixture.Socket;
        return GrpcChannel.ForAddress("http://hcsd", new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    if (connectAs is not null)
                    {
                        return connectAs();
                    }

                    var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken);
                    return new NetworkStream(connection, ownsSocket: true);
                },
            },
        });
    }
}
