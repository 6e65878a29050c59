// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Hcs.Shim.Protocol;
using Hcs.State;
using Xunit;
using ClientComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// A runtime root far longer than a Unix socket address (107 bytes) holds containers like any other
/// (docs/containers.md, Socket paths): the engine over the SQLite store and the real runc backend, as hcsd runs them,
/// creates and starts a container, runs processes in it (the engine's stdio sockets, the monitor's console socket for
/// a terminal), and a second engine adopts it over the monitor's control socket, runs a process again and terminates it.
/// </summary>
public sealed class RuncLongRuntimeRootTests : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly string _base = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("hcs-rlong-state-");
    private readonly List<ComputeEngine> _engines = [];
    private readonly List<HcsClient> _clients = [];
    private string _root = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private RuncSettings Settings => new() { RuntimeRoot = _root, CgroupParent = RuncAdoptionTests.CgroupParent };

    private ComputeEngine NewEngine()
    {
        var engine = new ComputeEngine([new RuncBackend(Settings)], new EngineOptions { Store = new SqliteStateStore(_state.FullName) });
        _engines.Add(engine);
        return engine;
    }

    private HcsClient Connect(ComputeEngine engine)
    {
        var client = HcsClient.Connect(engine, "runc-long-root");
        _clients.Add(client);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        foreach (var engine in _engines)
        {
            await engine.DisposeAsync();
        }

        if (_root.Length > 0)
        {
            await new RuncBackend(Settings).CleanOrphansAsync(new HashSet<string>(), killRunning: true, CancellationToken.None);
        }

        if (Directory.Exists(_base))
        {
            Directory.Delete(_base, recursive: true);
        }

        _state.Delete(recursive: true);
    }

    /// <summary>Runs <c>sh -c script</c> (on a terminal when <paramref name="tty"/>); returns its output.</summary>
    private static async Task<string> RunAsync(ClientComputeSystem system, string script, bool tty)
    {
        await using var process = await system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", script],
            CreateStdOutPipe = true,
            EmulateConsole = tty,
        }, Ct).WaitAsync(s_timeout, Ct);
        var output = await new StreamReader(process.StandardOutput!).ReadToEndAsync(Ct).WaitAsync(s_timeout, Ct);
        Assert.Equal(0u, (await process.WaitForExitAsync(Ct).WaitAsync(s_timeout, Ct)).ExitCode);
        return output;
    }

    [Theory]
    [InlineData(150)]
    [InlineData(250)]
    public async Task AContainer_UnderALongRuntimeRoot_RunsProcesses_IsAdoptedAfterARestart_AndTerminated(int rootBytes)
    {
        Requires.Containers();
        _root = _base + "/" + new string('r', rootBytes - _base.Length - 1);
        Assert.Equal(rootBytes, Encoding.UTF8.GetByteCount(_root));
        var id = "long-" + Guid.NewGuid().ToString("N")[..8];
        var run = new RuncBackend(Settings).LayoutOf(id).Directory;
        Assert.True(Encoding.UTF8.GetByteCount(Path.Combine(run, ShimProtocol.SocketName)) > RuncBackend.MaxSocketPath);

        var first = Connect(NewEngine());
        await using (var container = await ClientComputeSystem.CreateAsync(first, id, RuncBackendFixture.Document(), Ct).WaitAsync(s_timeout, Ct))
        {
            await container.StartAsync(Ct).WaitAsync(s_timeout, Ct);
            Assert.True(File.Exists(Path.Combine(run, ShimProtocol.SocketName)), "the monitor bound its control socket in the runtime directory");
            Assert.Equal(SystemState.Running, (await container.GetPropertiesAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct)).State);
            Assert.Equal("hello\n", await RunAsync(container, "echo hello", tty: false));
            Assert.Contains("/dev/pts/", await RunAsync(container, "tty", tty: true), StringComparison.Ordinal);
        }

        // hcsd restarts: the first engine detaches (the monitor and container keep running), a second one adopts.
        await _engines[0].DetachAsync();
        var engine = NewEngine();
        var report = await engine.RecoverAsync(Ct).WaitAsync(s_timeout, Ct);
        Assert.Equal(id, Assert.Single(report.Adopted).Id);
        var second = Connect(engine);
        await using (var container = await ClientComputeSystem.OpenAsync(second, id, Ct).WaitAsync(s_timeout, Ct))
        {
            Assert.Equal(SystemState.Running, (await container.GetPropertiesAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct)).State);
            Assert.Equal("again\n", await RunAsync(container, "echo again", tty: false));
            await container.TerminateAsync(Ct).WaitAsync(s_timeout, Ct);
            await container.WaitForExitAsync(Ct).WaitAsync(s_timeout, Ct);
        }

        _clients.Remove(second);
        await second.DisposeAsync();
        _engines.Remove(engine);
        await engine.DisposeAsync();
        Assert.False(Directory.Exists(run), "the runtime directory is removed once the container is released");
    }
}
