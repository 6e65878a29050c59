// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Engine.State;

/// <summary>
/// Where a compute service keeps its <see cref="SystemRecord"/>s across restarts (hcsd: <c>SqliteStateStore</c> in
/// Hcs.State). The engine calls it from one writer at a time, in the order of the transitions; a call that fails is
/// logged by the engine and never stops it. Implementations need not be thread-safe beyond that, but
/// <see cref="LoadAsync"/> may be called before any write.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Every record, in no particular order. Fails if the store cannot be read (the service must then not guess).</summary>
    Task<IReadOnlyList<SystemRecord>> LoadAsync(CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the record of <see cref="SystemRecord.Id"/>; durable when the task completes.</summary>
    Task SaveAsync(SystemRecord record, CancellationToken cancellationToken = default);

    /// <summary>Removes the record of <paramref name="id"/>, if any.</summary>
    Task DeleteAsync(string id, CancellationToken cancellationToken = default);
}
