// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Engine.Backends;

/// <summary>
/// A kind of compute system the engine can host (QEMU virtual machines, runc containers, the in-memory fake).
/// The engine owns state, handles, operations and events; a backend only does the work and reports what happened
/// through <see cref="IBackendEventSink"/>.
/// </summary>
public interface IComputeBackend
{
    /// <summary>Short name for logs and properties, e.g. <c>qemu</c>.</summary>
    string Name { get; }

    /// <summary>True if this backend hosts <paramref name="document"/> (e.g. it has a <c>VirtualMachine</c>).</summary>
    bool CanHost(ComputeSystem document);

    /// <summary>
    /// Rejects, by JSON path, every member of <paramref name="document"/> this backend cannot honour
    /// (throws <see cref="HcsException"/> with <c>HCS_E_INVALID_JSON</c>). Called before the id is reserved.
    /// </summary>
    void Validate(ComputeSystem document);

    /// <summary>
    /// Constructs the system (prepares, does not start it). Cancellation means the system was terminated while
    /// being constructed: undo what was done and throw <see cref="OperationCanceledException"/>.
    /// </summary>
    Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken);

    /// <summary>
    /// Re-attaches to a system this backend created in an earlier life of the service (hcsd restarted), from the
    /// runtime facts it reported through <see cref="IBackendEventSink.RuntimeFactsChanged"/>. It re-queries the real
    /// state: a live system comes back with <see cref="BackendAdoption.System"/> and its state; a system that ended
    /// while the service was down comes back with <see cref="BackendAdoption.Exit"/> (cause
    /// <see cref="BackendExitCause.WorkerDied"/> unless the real cause is known) and its runtime leftovers removed.
    /// Never starts anything.
    /// </summary>
    Task<BackendAdoption> AdoptAsync(BackendAdoptContext context, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"the {Name} backend cannot re-adopt systems");

    /// <summary>
    /// Finds runtime leftovers of this backend (a QEMU with our runtime directory, a runc container or monitor, a
    /// runtime directory) whose system id is not in <paramref name="knownIds"/>, stops and removes them, and
    /// returns a line per orphan for the log. A leftover whose workload is still alive (a running or paused
    /// container, a live QEMU) is never killed here: a missing or stale record is not a reason to end a running
    /// system. It is left untouched and reported with a line beginning with <see cref="OrphanLines.LeftRunning"/>.
    /// </summary>
    Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>([]);

    /// <summary>
    /// <see cref="CleanOrphansAsync(IReadOnlySet{string}, CancellationToken)"/>, except that the leftovers of
    /// <paramref name="endedIds"/> (systems whose record says they must not run on: a Create, Start or Terminate was in
    /// flight when the old service died, and the engine has ended them) are ended even if alive.
    /// </summary>
    Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, IReadOnlySet<string> endedIds, CancellationToken cancellationToken) =>
        CleanOrphansAsync(knownIds, cancellationToken);
}

/// <summary>What a backend gets to re-attach to one system after a service restart.</summary>
/// <param name="Id">The system id.</param>
/// <param name="Document">The create document, as recorded.</param>
/// <param name="Events">Where the backend reports events from now on.</param>
/// <param name="Time">The engine's clock.</param>
/// <param name="RuntimeFacts">The last JSON the backend reported through <see cref="IBackendEventSink.RuntimeFactsChanged"/>.</param>
public sealed record BackendAdoptContext(string Id, ComputeSystem Document, IBackendEventSink Events, TimeProvider Time, string RuntimeFacts);

/// <summary>What <see cref="IComputeBackend.AdoptAsync"/> found.</summary>
/// <param name="System">The re-attached system when it is still alive, else null.</param>
/// <param name="State">Its real state when alive: <see cref="SystemState.Created"/> (constructed, never started),
/// <see cref="SystemState.Running"/> or <see cref="SystemState.Paused"/>.</param>
/// <param name="Exit">How it ended while the service was down, when it is not alive.</param>
public sealed record BackendAdoption(IBackendSystem? System, SystemState State, BackendExit? Exit);

/// <summary>What a backend gets to construct one system.</summary>
/// <param name="Id">The system id (validated: no path separators, control characters or <c>..</c>).</param>
/// <param name="Document">The parsed, validated create document.</param>
/// <param name="Events">Where the backend reports guest and worker events.</param>
/// <param name="Time">The engine's clock.</param>
public sealed record BackendSystemContext(string Id, ComputeSystem Document, IBackendEventSink Events, TimeProvider Time);

/// <summary>How <see cref="IComputeBackend.CleanOrphansAsync(IReadOnlySet{string}, CancellationToken)"/> words its lines.</summary>
public static class OrphanLines
{
    /// <summary>
    /// The beginning of a line about a live system that has no live record (its record is missing, or the engine could
    /// not re-adopt it): it was left running, untouched, for an operator to look at.
    /// </summary>
    public const string LeftRunning = "left running: ";
}
