// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Linux;
using Hcs.Schema;
using Hcs.State;
using Xunit;
using ClientComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// A runtime root far longer than a Unix socket address (107 bytes) holds VMs like any other (docs/qemu-backend.md,
/// Socket paths): the engine over the SQLite store and the real QEMU backend (TCG), as hcsd runs them, creates,
/// starts, queries, saves and restores, and a second engine adopts the running VM and terminates it. QEMU's own
/// sockets (QMP, the diagnostics monitor, the console, VNC) and the service's (save, restore) all live in the long
/// runtime directory.
/// </summary>
public sealed class QemuLongRuntimeRootTests : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _base = Directory.CreateTempSubdirectory("hcs-qlong-");
    private readonly DirectoryInfo _state = Directory.CreateTempSubdirectory("hcs-qlong-state-");
    private readonly List<ComputeEngine> _engines = [];
    private readonly List<HcsClient> _clients = [];
    private string _root = "";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ComputeEngine NewEngine()
    {
        var engine = new ComputeEngine([new QemuBackend(new QemuSettings { DiagnosticsMonitor = true }, _root)],
            new EngineOptions { Store = new SqliteStateStore(_state.FullName), ShutdownTimeout = TimeSpan.FromSeconds(60) });
        _engines.Add(engine);
        return engine;
    }

    private HcsClient Connect(ComputeEngine engine)
    {
        var client = HcsClient.Connect(engine, "qemu-long-root");
        _clients.Add(client);
        return client;
    }

    /// <summary>A runtime root of exactly <paramref name="bytes"/> bytes under this test's temporary directory.</summary>
    private string LongRoot(int bytes)
    {
        var prefix = _base.FullName + "/";
        return prefix + new string('r', bytes - prefix.Length);
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
            await new QemuBackend(new QemuSettings(), _root).CleanOrphansAsync(new HashSet<string>(), killRunning: true, CancellationToken.None);
        }

        _base.Delete(recursive: true);
        _state.Delete(recursive: true);
    }

    private static async Task<string> StatusOverDiagnosticsAsync(string run)
    {
        await using var qmp = await QmpClient.ConnectAsync(Path.Combine(run, QemuCommandLine.DiagnosticsSocket), Ct).WaitAsync(s_timeout, Ct);
        return (await qmp.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString()!;
    }

    /// <summary>QEMU's VNC server, bound by QEMU in the long runtime directory, answers with its RFB greeting.</summary>
    private static async Task<string> VncGreetingAsync(string run)
    {
        using var socket = await UnixSocketPaths.ConnectAsync(Path.Combine(run, QemuCommandLine.VncSocket), Ct).WaitAsync(s_timeout, Ct);
        var greeting = new byte[12];
        var read = 0;
        while (read < greeting.Length)
        {
            var n = await socket.ReceiveAsync(greeting.AsMemory(read), Ct).AsTask().WaitAsync(s_timeout, Ct);
            Assert.True(n > 0, "the VNC server closed the connection before its greeting");
            read += n;
        }

        return Encoding.ASCII.GetString(greeting);
    }

    [Theory]
    [InlineData(150)]
    [InlineData(250)]
    public async Task AVm_UnderALongRuntimeRoot_IsCreatedStartedSavedRestoredAdoptedAndTerminated(int rootBytes)
    {
        Requires.Vms();
        _root = LongRoot(rootBytes);
        Assert.Equal(rootBytes, Encoding.UTF8.GetByteCount(_root));
        var id = "long-" + Guid.NewGuid().ToString("N")[..8];
        var run = QemuBackend.RuntimeDirectoryOf(_root, id);
        Assert.True(Encoding.UTF8.GetByteCount(Path.Combine(run, QemuCommandLine.DiagnosticsSocket)) > QemuOptions.MaxSocketPath);
        var document = TestGuest.Document("idle", new Devices { VideoMonitor = new VideoMonitor() });

        var first = Connect(NewEngine());
        await using (var vm = await ClientComputeSystem.CreateAsync(first, id, document, Ct).WaitAsync(s_timeout, Ct))
        {
            Assert.True(File.Exists(Path.Combine(run, QemuCommandLine.QmpSocket)), "QEMU bound its QMP socket in the runtime directory");
            Assert.True(File.Exists(Path.Combine(run, QemuCommandLine.ConsoleSocket)), "QEMU bound its console socket in the runtime directory");
            await vm.StartAsync(Ct).WaitAsync(s_timeout, Ct);
            Assert.Equal(SystemState.Running, (await vm.GetPropertiesAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct)).State);
            Assert.Equal("running", await StatusOverDiagnosticsAsync(run));
            Assert.StartsWith("RFB ", await VncGreetingAsync(run), StringComparison.Ordinal);

            // Save (the service listens on save.sock, QEMU connects to it) and restore into a second VM (QEMU listens on
            // restore.sock, the service connects): both sockets in a long runtime directory.
            var saved = Path.Combine(_base.FullName, "vm.state");
            await vm.PauseAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct);
            await vm.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = saved }, Ct).WaitAsync(s_timeout, Ct);
            Assert.True(new FileInfo(saved).Length > 0);
            await vm.ResumeAsync(Ct).WaitAsync(s_timeout, Ct);

            var copy = id + "-restored";
            var restoredDocument = document with { VirtualMachine = document.VirtualMachine! with { RestoreState = new RestoreState { SaveStateFilePath = saved } } };
            await using var restored = await ClientComputeSystem.CreateAsync(first, copy, restoredDocument, Ct).WaitAsync(s_timeout, Ct);
            await restored.StartAsync(Ct).WaitAsync(s_timeout, Ct);
            Assert.Equal("running", await StatusOverDiagnosticsAsync(QemuBackend.RuntimeDirectoryOf(_root, copy)));
            await restored.TerminateAsync(Ct).WaitAsync(s_timeout, Ct);
        }

        // hcsd restarts: the first engine detaches (QEMU keeps running), a second one adopts the VM over its QMP socket.
        await _engines[0].DetachAsync();
        var engine = NewEngine();
        var report = await engine.RecoverAsync(Ct).WaitAsync(s_timeout, Ct);
        Assert.Equal(id, Assert.Single(report.Adopted).Id);
        var second = Connect(engine);
        await using (var vm = await ClientComputeSystem.OpenAsync(second, id, Ct).WaitAsync(s_timeout, Ct))
        {
            Assert.Equal(SystemState.Running, (await vm.GetPropertiesAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct)).State);
            Assert.Equal("running", await StatusOverDiagnosticsAsync(run));
            await vm.PauseAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct); // a QMP command over the adopted connection
            Assert.Equal(SystemState.Paused, (await vm.GetPropertiesAsync(cancellationToken: Ct).WaitAsync(s_timeout, Ct)).State);
            await vm.TerminateAsync(Ct).WaitAsync(s_timeout, Ct);
            await vm.WaitForExitAsync(Ct).WaitAsync(s_timeout, Ct);
        }

        _clients.Remove(second);
        await second.DisposeAsync();
        _engines.Remove(engine);
        await engine.DisposeAsync();
        Assert.False(Directory.Exists(run), "the runtime directory is removed once the VM is released");
    }
}
