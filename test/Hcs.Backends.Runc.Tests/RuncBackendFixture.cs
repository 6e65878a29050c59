// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Conformance;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// The runc backend under test: a fresh engine per test, its own runtime root (under /run/hcs-test) and cgroup
/// parent, containers on the busybox test layer. The engine runs a <see cref="ScriptedRuncBackend"/> over the real
/// backend, so a container's guest can power itself off (<c>poweroff:MS</c>: SIGTERM from the host to its init) or
/// ignore a shutdown request (a process that ignores SIGTERM). Disposing it terminates what is left and removes the
/// runtime root.
/// </summary>
public sealed class RuncBackendFixture : BackendFixture
{
    private readonly string _runtimeRoot = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The backend's settings.</summary>
    internal RuncSettings Settings => new() { RuntimeRoot = _runtimeRoot, CgroupParent = "hcs-test" };

    private readonly Lazy<ScriptedRuncBackend> _backend;

    /// <summary>Creates the fixture; the backend is made on first use.</summary>
    public RuncBackendFixture()
    {
        Requires.Containers();
        _backend = new Lazy<ScriptedRuncBackend>(() => new ScriptedRuncBackend(new RuncBackend(Settings)));
    }

    /// <summary>The scripted backend, to script systems before creation.</summary>
    public ScriptedRuncBackend Backend => _backend.Value;

    /// <summary>The runtime root of this fixture's containers.</summary>
    public string RuntimeRoot => _runtimeRoot;

    public override string Name => "runc";

    public override SystemType SystemType => SystemType.Container;

    public override TimeSpan ShutdownTimeout => TimeSpan.FromSeconds(3);

    public override TimeSpan Timeout => TimeSpan.FromSeconds(30);

    protected override IComputeService CreateService() =>
        new ComputeEngine([Backend], new EngineOptions { ShutdownTimeout = ShutdownTimeout });

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

    /// <summary>A container has no guest kernel: nothing to panic, reset or crash.</summary>
    public override bool HasGuestKernel => false;

    /// <summary>The runc backend has no checkpoint/restore: Save is ERROR_NOT_SUPPORTED.</summary>
    public override bool CanSave => false;

    /// <summary>
    /// <c>idle</c>: a container whose init idles. <c>poweroff:MS</c>: one whose init gets SIGTERM from the host MS ms after
    /// Start (host name <c>hcstest-poweroff-MS</c>, see <see cref="ScriptedRuncBackend"/>). Other verbs need a guest kernel.
    /// </summary>
    public override string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false)
    {
        ArgumentNullException.ThrowIfNull(guestVerb);
        if (stopOnReset)
        {
            throw new NotSupportedException("a container has no guest kernel to reset (StopOnReset)");
        }

        var document = Document() with { ShouldTerminateOnLastHandleClosed = terminateOnLastHandleClosed };
        if (guestVerb == "idle")
        {
            return HcsJson.Serialize(document);
        }

        if (guestVerb.StartsWith("poweroff:", StringComparison.Ordinal) && uint.TryParse(guestVerb["poweroff:".Length..], CultureInfo.InvariantCulture, out var ms))
        {
            return HcsJson.Serialize(document with
            {
                Container = document.Container! with
                {
                    GuestOs = new GuestOs { HostName = string.Create(CultureInfo.InvariantCulture, $"{ScriptedRuncBackend.PowerOffHostNamePrefix}{ms}") },
                },
            });
        }

        throw new NotSupportedException($"a container has no guest kernel to run '{guestVerb}'");
    }

    /// <summary>An idle container whose Start also runs a process that ignores SIGTERM, so its init never exits on a shutdown request.</summary>
    public override string IgnoresShutdownDocument(string id)
    {
        Backend.Script(id, new RuncScript { IgnoreShutdown = true });
        return VmDocument("idle");
    }

    /// <summary>The memory limit of a container.</summary>
    public override ModifySettingRequest MemoryUpdate(ulong sizeInMb) => SizeUpdate("Container/Memory/SizeInMB", sizeInMb);

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
