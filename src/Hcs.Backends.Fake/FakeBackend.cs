// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Fake;

/// <summary>
/// In-memory compute systems with scriptable behaviour (libvirt's <c>test:///default</c> analog): hosts both virtual
/// machines and containers, follows the <c>hcstest=</c> guest verbs, and lets tests inject faults
/// (<see cref="Script"/>) or act as the guest (<see cref="Get"/>).
/// </summary>
public sealed class FakeBackend : IComputeBackend
{
    private readonly ConcurrentDictionary<string, FakeScript> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeSystem> _systems = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Name => "fake";

    /// <summary>Systems ever constructed by this backend, by id (the latest one for a reused id).</summary>
    public IReadOnlyDictionary<string, FakeSystem> Systems => _systems;

    /// <summary>Registers the script of the next system created with <paramref name="id"/>.</summary>
    public void Script(string id, FakeScript script) => _scripts[id] = script;

    /// <summary>The fake system <paramref name="id"/>, to act as its guest or worker.</summary>
    public FakeSystem Get(string id) => _systems.TryGetValue(id, out var system)
        ? system
        : throw new KeyNotFoundException($"no fake system '{id}'");

    /// <inheritdoc />
    public bool CanHost(ComputeSystem document) => document.VirtualMachine is not null || document.Container is not null;

    /// <inheritdoc />
    public void Validate(ComputeSystem document)
    {
        ArgumentNullException.ThrowIfNull(document);
        try
        {
            _ = GuestBehaviour.Parse(document.VirtualMachine?.Chipset?.LinuxKernelDirect?.KernelCmdLine);
        }
        catch (FormatException e)
        {
            throw HcsException.InvalidJson("$.VirtualMachine.Chipset.LinuxKernelDirect.KernelCmdLine", e.Message);
        }
    }

    /// <inheritdoc />
    public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var script = _scripts.TryRemove(context.Id, out var s) ? s : new FakeScript();
        if (script.CreateDelay > TimeSpan.Zero)
        {
            await Task.Delay(script.CreateDelay, context.Time, cancellationToken).ConfigureAwait(false);
        }

        if (script.FailCreate is { } hr)
        {
            throw new HcsException(hr, "FakeBackend.Create", context.Id);
        }

        var system = new FakeSystem(context, script);
        _systems[context.Id] = system;
        return system;
    }
}
