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
}

/// <summary>What a backend gets to construct one system.</summary>
/// <param name="Id">The system id (validated: no path separators, control characters or <c>..</c>).</param>
/// <param name="Document">The parsed, validated create document.</param>
/// <param name="Events">Where the backend reports guest and worker events.</param>
/// <param name="Time">The engine's clock.</param>
public sealed record BackendSystemContext(string Id, ComputeSystem Document, IBackendEventSink Events, TimeProvider Time);
