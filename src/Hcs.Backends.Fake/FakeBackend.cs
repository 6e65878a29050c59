// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Text.Json;
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
        context.Events.RuntimeFactsChanged(system.RuntimeFacts);
        return system;
    }

    /// <summary>
    /// Re-attaches to the fake system named by the runtime facts, if it is still the one with that id. A system that
    /// died meanwhile comes back as its exit (the fake knows the real cause); one replaced or never constructed is
    /// gone (<see cref="BackendExitCause.WorkerDied"/>). Facts that are not the fake's fail, so a test notices facts
    /// that were not persisted.
    /// </summary>
    public Task<BackendAdoption> AdoptAsync(BackendAdoptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Guid instance;
        try
        {
            using var facts = JsonDocument.Parse(context.RuntimeFacts);
            instance = facts.RootElement.GetProperty("FakeInstance").GetGuid();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new HcsException(HResults.E_INVALIDARG, "FakeBackend.Adopt", context.Id,
                result: ResultError.From(HResults.E_INVALIDARG, $"not the fake backend's runtime facts: '{context.RuntimeFacts}'"));
        }

        if (!_systems.TryGetValue(context.Id, out var system) || system.InstanceId != instance)
        {
            return Task.FromResult(new BackendAdoption(null, SystemState.Stopped,
                new BackendExit(BackendExitCause.WorkerDied, Detail: "no such fake system any more")));
        }

        return Task.FromResult(system.Adopt(context));
    }

    /// <summary>
    /// Reports every live fake system whose id is not in <paramref name="knownIds"/> as left running
    /// (<see cref="OrphanLines.LeftRunning"/>); a live system is never ended for lack of a record.
    /// </summary>
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, CancellationToken cancellationToken) =>
        CleanOrphansAsync(knownIds, new HashSet<string>(), cancellationToken);

    /// <summary>As the two-argument overload, but live systems of <paramref name="endedIds"/> are terminated.</summary>
    public async Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, IReadOnlySet<string> endedIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(knownIds);
        ArgumentNullException.ThrowIfNull(endedIds);
        var lines = new List<string>();
        foreach (var (id, system) in _systems)
        {
            if (system.IsDead || knownIds.Contains(id))
            {
                continue;
            }

            if (endedIds.Contains(id))
            {
                await system.TerminateAsync(cancellationToken).ConfigureAwait(false);
                lines.Add($"fake system {id} (instance {system.InstanceId}) terminated");
            }
            else
            {
                lines.Add($"{OrphanLines.LeftRunning}fake system {id} (instance {system.InstanceId}) is alive with no record");
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Simulates the service dying (<c>kill -9</c>): every fake system keeps running and stops reporting to its engine.</summary>
    public void SeverAll()
    {
        foreach (var system in _systems.Values)
        {
            system.Sever();
        }
    }
}
