// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using Grpc.Net.Client;
using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// The compute service of an <c>hcsd</c> reached over its Unix socket (gRPC, HTTP/2). Sessions opened on it are
/// <see cref="RemoteSession"/>s; the service going away (stopped or dead) is a service disconnect on each.
/// </summary>
public sealed class RemoteService : IComputeService
{
    private readonly GrpcChannel _channel;
    private readonly ComputeService.ComputeServiceClient _client;
    private readonly List<RemoteSession> _sessions = []; // locked: sessions opened here, told when the connection closes

    private RemoteService(string socket, Func<CancellationToken, ValueTask<Stream>>? connect)
    {
        Socket = socket;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                if (connect is not null)
                {
                    return await connect(cancellationToken).ConfigureAwait(false);
                }

                var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await connection.ConnectAsync(new UnixDomainSocketEndPoint(socket), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(connection, ownsSocket: true);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            },
            // Long calls (waits, event and stdio streams) must never queue behind a stream limit.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        _channel = GrpcChannel.ForAddress("http://hcsd", new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = WireLimits.MaxMessageSize,
            MaxSendMessageSize = WireLimits.MaxMessageSize,
            DisposeHttpClient = true,
        });
        _client = new ComputeService.ComputeServiceClient(_channel);
    }

    /// <summary>The socket path.</summary>
    public string Socket { get; }

    /// <summary>
    /// A service at <paramref name="socket"/>; nothing is sent until a session opens. <paramref name="connect"/>, when
    /// given, makes each connection instead (e.g. a socket connected with other credentials, or a forwarded stream).
    /// </summary>
    public static RemoteService Connect(string socket, Func<CancellationToken, ValueTask<Stream>>? connect = null) => new(socket, connect);

    /// <inheritdoc />
    public IComputeSession OpenSession(ClientIdentity client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var session = new RemoteSession(_client, client, Socket);
        lock (_sessions)
        {
            _sessions.RemoveAll(s => s.Lost.IsCancellationRequested);
            _sessions.Add(session);
        }

        return session;
    }

    /// <summary>Opens a session and waits until hcsd has accepted it; fails with <c>HCS_E_SERVICE_DISCONNECT</c> if it is not there.</summary>
    internal async Task<RemoteSession> OpenSessionAsync(ClientIdentity client, CancellationToken cancellationToken = default)
    {
        var session = (RemoteSession)OpenSession(client);
        try
        {
            await session.Opened.WaitAsync(cancellationToken).ConfigureAwait(false);
            return session;
        }
        catch (Exception e)
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw HcsException.Wrap(e, OperationLabels.Connect);
        }
    }

    /// <summary>Closes the connection: every session opened through it sees a service disconnect now.</summary>
    public ValueTask DisposeAsync()
    {
        RemoteSession[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
            _sessions.Clear();
        }

        foreach (var session in sessions)
        {
            session.OnLost();
        }

        _channel.Dispose();
        return ValueTask.CompletedTask;
    }
}
