// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Backends.Qemu;
using Hcs.Backends.Runc;
using Hcs.Engine;
using Hcs.Engine.Backends;
using Hcs.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hcs.Host;

/// <summary>Builds the compute engine and its backends from <see cref="HostSettings"/>.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public static class ServiceHost
{
    /// <summary>Creates the backends named in <paramref name="settings"/>, with their runtime directories under <see cref="HostSettings.RuntimeRoot"/>.</summary>
    public static IReadOnlyList<IComputeBackend> CreateBackends(HostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var backends = new List<IComputeBackend>();
        foreach (var name in settings.Backends)
        {
            backends.Add(name switch
            {
                "qemu" => new QemuBackend(settings.Qemu, Directory.CreateDirectory(Path.Combine(settings.RuntimeRoot, "vm")).FullName),
                "runc" => new RuncBackend(settings.Runc with { RuntimeRoot = Path.Combine(settings.RuntimeRoot, "ct") }),
                "fake" => new FakeBackend(),
                _ => throw new ArgumentException($"unknown backend '{name}' (qemu, runc or fake)", nameof(settings)),
            });
        }

        return backends;
    }

    /// <summary>Creates an engine over the backends of <paramref name="settings"/>.</summary>
    public static ComputeEngine CreateEngine(HostSettings settings, IReadOnlyList<IComputeBackend>? backends = null) =>
        CreateEngine(settings, backends, NullLogger.Instance);

    /// <summary>
    /// Creates an engine over the backends of <paramref name="settings"/>, logging to <paramref name="logger"/>. With a
    /// <see cref="HostSettings.StateDirectory"/> the engine persists its systems in <c>STATE/state.db</c>
    /// (<see cref="SqliteStateStore"/>, opened on first use), so the service can <see cref="ComputeEngine.RecoverAsync"/>
    /// them after a restart and <see cref="ComputeEngine.DetachAsync"/> on a graceful stop; crash reports go to
    /// <c>STATE/crash</c>.
    /// </summary>
    public static ComputeEngine CreateEngine(HostSettings settings, IReadOnlyList<IComputeBackend>? backends, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(logger);
        var options = new EngineOptions { ShutdownTimeout = settings.ShutdownTimeout, Logger = logger };
        if (settings.StateDirectory is { } state)
        {
            options = options with { CrashDirectory = Path.Combine(state, "crash"), Store = new SqliteStateStore(state) };
        }

        return new ComputeEngine(backends ?? CreateBackends(settings), options);
    }

    /// <summary>
    /// Null if <paramref name="engine"/>'s state store can be written now, else why not (a full or read-only state
    /// directory: <c>ERROR_DISK_FULL</c>, <c>ERROR_WRITE_PROTECT</c>). Such a service still recovers and serves queries;
    /// every call that needs a durable record fails with that error until the store can be written again.
    /// </summary>
    public static async Task<Schema.HcsException?> CheckStateWritableAsync(ComputeEngine engine, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return engine.Options.Store is SqliteStateStore store ? await store.CheckWritableAsync(cancellationToken).ConfigureAwait(false) : null;
    }
}
