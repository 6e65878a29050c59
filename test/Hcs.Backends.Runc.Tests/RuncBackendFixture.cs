// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Conformance;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// The runc backend under test: a fresh engine per test, its own runtime root (short, for socket paths) and cgroup
/// parent, containers on the busybox test layer. Disposing it terminates what is left and removes the runtime root.
/// </summary>
public sealed class RuncBackendFixture : BackendFixture
{
    private readonly string _runtimeRoot = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The backend's settings.</summary>
    internal RuncSettings Settings => new() { RuntimeRoot = _runtimeRoot, CgroupParent = "hcs-test" };

    /// <summary>The runtime root of this fixture's containers.</summary>
    public string RuntimeRoot => _runtimeRoot;

    public override string Name => "runc";

    public override SystemType SystemType => SystemType.Container;

    public override TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(3);

    public override TimeSpan Timeout => TimeSpan.FromSeconds(30);

    protected override IComputeService CreateService() =>
        new ComputeEngine([new RuncBackend(Settings)], new EngineOptions { ShutdownTimeout = ShutdownTimeout });

    /// <summary>A container on the busybox layer; <paramref name="configure"/> may change the container.</summary>
    public static ComputeSystem Document(Func<Container, Container>? configure = null, string owner = "runc-tests")
    {
        var container = new Container { Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] } };
        return new ComputeSystem
        {
            Owner = owner,
            SchemaVersion = new Schema.Version { Major = 2, Minor = 1 },
            Container = configure is null ? container : configure(container),
        };
    }

    public override string ContainerDocument() => HcsJson.Serialize(Document(owner: "runc-conformance"));

    public override string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false) =>
        guestVerb == "idle"
            ? HcsJson.Serialize(Document() with { ShouldTerminateOnLastHandleClosed = terminateOnLastHandleClosed ? true : null })
            : throw new NotSupportedException($"a container has no guest to run '{guestVerb}'");

    public override string IgnoresShutdownDocument(string id) => throw new NotSupportedException("use a process that ignores SIGTERM");

    /// <summary>Kills the container monitor of system <paramref name="id"/> with SIGKILL.</summary>
    public override void KillWorker(string id) => Process.GetProcessById(MonitorPid(id)).Kill();

    /// <summary>The pid of the <c>hcs-shim monitor</c> of system <paramref name="id"/>.</summary>
    public int MonitorPid(string id)
    {
        var state = Path.Combine(_runtimeRoot, id);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Length > 2 && args[1] == "monitor" && args.Contains(state))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        throw new InvalidOperationException($"no monitor for {id}");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            Directory.Delete(_runtimeRoot, recursive: true);
        }
        catch (IOException)
        {
            // Left for inspection if something still holds it; the tests assert cleanup themselves.
        }
    }
}
