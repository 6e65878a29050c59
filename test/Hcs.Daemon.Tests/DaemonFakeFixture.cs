// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Engine.Tests;
using Hcs.Schema;

namespace Hcs.Daemon.Tests;

/// <summary>
/// The fake backend behind a real hcsd transport: an engine served by <see cref="DaemonServer"/> on a Unix socket in
/// a fresh directory, and clients that reach it only through that socket (<see cref="RemoteService"/>). Disposing
/// <see cref="Hcs.Conformance.BackendFixture.Service"/> stops the daemon and its engine: the service going away.
/// </summary>
public sealed class DaemonFakeFixture(Func<DaemonOptions, DaemonOptions>? configure = null, Microsoft.Extensions.Logging.ILoggerFactory? logs = null,
    TimeProvider? engineTime = null)
    : FakeBackendFixture
{
    private readonly string _directory = SearchableTempDirectory();
    private DaemonServer? _server;

    /// <summary>A fixture with the default options.</summary>
    public DaemonFakeFixture()
        : this(null)
    {
    }

    /// <summary>A fresh directory others may traverse (as /run/hcs), so the socket's own mode decides who connects.</summary>
    public static string SearchableTempDirectory() => HcsdProcess.SearchableTempDirectory();

    /// <inheritdoc />
    protected override TimeProvider Time => engineTime ?? TimeProvider.System;

    /// <summary>The daemon's socket.</summary>
    public string Socket => Path.Combine(_directory, "hcsd.sock");

    /// <summary>The running daemon (after the service was first used).</summary>
    public DaemonServer Server => _server ?? throw new InvalidOperationException("the daemon has not started");

    /// <inheritdoc />
    protected override IComputeService CreateService()
    {
        var engine = CreateEngine();
#pragma warning disable VSTHRD002 // The fixture's service is created lazily by a synchronous property.
        var options = new DaemonOptions { Socket = Socket };
        _server = DaemonServer.StartAsync(engine, configure is null ? options : configure(options), logs).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        return new StoppableService(RemoteService.Connect(Socket), this);
    }

    /// <summary>
    /// Kills the fake worker. A Start the test just sent crosses the socket asynchronously, so when the system is not
    /// running the kill waits (bounded) for that Start to reach the backend, as it would have in process.
    /// </summary>
    public override void KillWorker(string id)
    {
        var system = Backend.Get(id);
        SpinWait.SpinUntil(() => system.IsRunning || system.StartCalls > 0, TimeSpan.FromSeconds(2));

        base.KillWorker(id);
    }

    /// <inheritdoc />
    public override async Task StartArrivedAsync(string id)
    {
        var system = Backend.Get(id);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        while (system.StartCalls == 0)
        {
            await Task.Delay(2, timeout.Token);
        }
    }

    /// <summary>Stops the daemon as hcsd does when it goes away, then its engine (systems are terminated).</summary>
    public async Task StopDaemonAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        await Engine.DisposeAsync();
    }

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await StopDaemonAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The remote service; disposing it is the daemon going away, as disposing an engine is in process.</summary>
    private sealed class StoppableService(RemoteService remote, DaemonFakeFixture fixture) : IComputeService
    {
        private int _stopped;

        public IComputeSession OpenSession(ClientIdentity client) =>
            Volatile.Read(ref _stopped) != 0 ? throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, "Service.Connect") : remote.OpenSession(client);

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _stopped, 1) == 0)
            {
                await fixture.StopDaemonAsync();
                await remote.DisposeAsync();
            }
        }
    }
}
