// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Backends.Qemu;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Bench;

/// <summary>One idle VM with a remote console, running under hcs (engine embedded, QEMU backend), booted to idle.</summary>
internal sealed class RunningVm : IAsyncDisposable
{
    public const string Id = "bench";
    private readonly DirectoryInfo _root;
    private ConsoleTap? _console;

    private RunningVm(DirectoryInfo root, ComputeEngine engine, HcsClient client, ComputeSystem vm)
    {
        _root = root;
        Engine = engine;
        Client = client;
        Vm = vm;
    }

    public ComputeEngine Engine { get; }

    public HcsClient Client { get; }

    public ComputeSystem Vm { get; }

    public string RuntimeRoot => Path.Combine(_root.FullName, "hcs");

    /// <summary>The documented console endpoint: the runtime directory's vnc.sock.</summary>
    public string ConsoleEndpoint => Path.Combine(RuntimeRoot, Id, QemuCommandLine.VncSocket);

    public static Devices ConsoleDevices => new() { VideoMonitor = new VideoMonitor() };

    public static async Task<RunningVm> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("hcs-bench-vm-");
        var engine = new ComputeEngine([new QemuBackend(new QemuSettings(), Path.Combine(root.FullName, "hcs"))]);
        var client = HcsClient.Connect(engine, "hcs-bench");
        var vm = await ComputeSystem.CreateAsync(client, Id, BenchGuest.Document("idle", ConsoleDevices));
        var running = new RunningVm(root, engine, client, vm);
        running._console = await ConsoleTap.ConnectAsync(Path.Combine(running.RuntimeRoot, Id, QemuCommandLine.ConsoleSocket), Stopwatch.StartNew());
        await vm.StartAsync();
        await running._console.Idle.WaitAsync(TimeSpan.FromMinutes(3));
        return running;
    }

    public async ValueTask DisposeAsync()
    {
        await Vm.TerminateAsync();
        await Vm.DisposeAsync();
        if (_console is not null)
        {
            await _console.DisposeAsync();
        }

        await Client.DisposeAsync();
        await Engine.DisposeAsync();
        _root.Delete(recursive: true);
    }
}
