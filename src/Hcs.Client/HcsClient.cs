// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;

namespace Hcs.Client;

/// <summary>
/// A connection to a compute service: <c>hcsd</c> over its socket, or an engine in this process.
/// Both API layers (<see cref="ComputeCore"/> and <see cref="ComputeSystem"/>) run over a client. Disposing it closes
/// every handle opened through it, exactly as a client process exiting would.
/// </summary>
public sealed class HcsClient : IAsyncDisposable, IDisposable
{
    private static readonly AsyncLocal<HcsClient?> s_scoped = new();
    private static Func<HcsClient>? s_defaultFactory;
    private static HcsClient? s_default;
    private static readonly Lock s_defaultGate = new();

    private readonly IAsyncDisposable? _owned;

    private HcsClient(IComputeSession session, IAsyncDisposable? owned = null, bool isDaemon = false)
    {
        Session = session;
        _owned = owned;
        IsDaemon = isDaemon;
    }

    /// <summary>True when this client talks to <c>hcsd</c> over its socket; false for an engine in this process.</summary>
    public bool IsDaemon { get; }

    /// <summary>
    /// Connects the way an application normally does: to <c>hcsd</c> when its socket exists (or when
    /// <see cref="HcsConnectOptions.Mode"/> says so), else to an engine embedded in this process and disposed with the
    /// client. Embedding needs the <c>Hcs.Host</c> package (<see cref="HcsEmbedding"/>): without it, a connection
    /// that would embed fails with <c>HCS_E_SERVICE_NOT_AVAILABLE</c>, and an application that references it may call
    /// <c>Hcs.Host.EmbeddedHcs.Connect</c> to choose the embedded engine's settings.
    /// </summary>
    public static HcsClient Connect(HcsConnectOptions? options = null) => ConnectCore(options, HcsEmbedding.Find);

    /// <summary>
    /// Connects to <c>hcsd</c> when its socket exists (or when <see cref="HcsConnectOptions.Mode"/> says so), else to
    /// the service <paramref name="createEngine"/> makes (an engine in this process), which the client owns: it is
    /// disposed with the client when it is <see cref="IAsyncDisposable"/>. A null <paramref name="createEngine"/>
    /// means this process cannot embed one (<c>HCS_E_SERVICE_NOT_AVAILABLE</c> when it would have to).
    /// </summary>
    public static HcsClient ConnectOrEmbed(HcsConnectOptions? options, Func<IComputeService>? createEngine) =>
        ConnectCore(options, () => createEngine);

    /// <summary>The one daemon-or-embed decision; <paramref name="findEngine"/> is asked only when the client embeds.</summary>
    private static HcsClient ConnectCore(HcsConnectOptions? options, Func<Func<IComputeService>?> findEngine)
    {
        options ??= new HcsConnectOptions();
        var socket = options.ResolveSocket();
        var daemon = options.Mode switch
        {
            HcsServiceMode.Daemon => true,
            HcsServiceMode.Embedded => false,
            _ => File.Exists(socket),
        };
        var identity = new ClientIdentity(Path.GetFileName(options.ClientName ?? Environment.ProcessPath ?? "hcs-client"), 0, Environment.ProcessId);
        if (daemon)
        {
            var remote = RemoteService.Connect(socket);
            try
            {
                var session = Blocking.Run(remote.OpenSessionAsync(identity));
                return new HcsClient(session, remote, isDaemon: true);
            }
            catch
            {
                Blocking.Run(remote.DisposeAsync().AsTask());
                throw;
            }
        }

        if (findEngine() is not { } createEngine)
        {
            throw HcsEmbedding.NotAvailable(options.Mode == HcsServiceMode.Embedded ? null : socket);
        }

        var engine = createEngine();
        try
        {
            return new HcsClient(engine.OpenSession(identity), engine as IAsyncDisposable);
        }
        catch
        {
            if (engine is IAsyncDisposable owned)
            {
                Blocking.Run(owned.DisposeAsync().AsTask());
            }

            throw;
        }
    }

    /// <summary>The service session this client talks through.</summary>
    public IComputeSession Session { get; }

    /// <summary>Connects to <paramref name="service"/> (for example an embedded <c>ComputeEngine</c>) as <paramref name="clientName"/>.</summary>
    public static HcsClient Connect(IComputeService service, string? clientName = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        var name = clientName ?? Environment.ProcessPath ?? "hcs-client";
        return new HcsClient(service.OpenSession(new ClientIdentity(Path.GetFileName(name), 0, Environment.ProcessId)));
    }

    /// <summary>
    /// The client the flat <see cref="ComputeCore"/> functions use: the innermost <see cref="Use"/> scope, else the
    /// process-wide default configured with <see cref="ConfigureDefault"/>.
    /// </summary>
    public static HcsClient Current
    {
        get
        {
            if (s_scoped.Value is { } scoped)
            {
                return scoped;
            }

            lock (s_defaultGate)
            {
                if (s_default is null)
                {
                    var factory = s_defaultFactory ?? throw new InvalidOperationException(
                        "no compute service is configured: call HcsClient.ConfigureDefault or HcsClient.Use first");
                    s_default = factory();
                }

                return s_default;
            }
        }
    }

    /// <summary>Sets how the process-wide default client is made (created on first use).</summary>
    public static void ConfigureDefault(Func<HcsClient> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        lock (s_defaultGate)
        {
            s_defaultFactory = factory;
            s_default = null;
        }
    }

    /// <summary>Makes <paramref name="client"/> the one <see cref="ComputeCore"/> uses in this async flow until the scope is disposed.</summary>
    public static IDisposable Use(HcsClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        var previous = s_scoped.Value;
        s_scoped.Value = client;
        return new Scope(previous);
    }

    /// <summary>Closes every handle opened through this client, then the connection or embedded engine it owns.</summary>
    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync().ConfigureAwait(false);
        if (_owned is not null)
        {
            await _owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Closes every handle opened through this client (blocking).</summary>
    public void Dispose() => Blocking.Run(DisposeAsync().AsTask());

    private sealed class Scope(HcsClient? previous) : IDisposable
    {
        public void Dispose() => s_scoped.Value = previous;
    }
}
