// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Engine.State;

/// <summary>
/// What the engine persists about one compute system so that a restarted service can find it again: who owns it,
/// what it is, which backend runs it and how to re-attach to it, where it was in its lifecycle, and how it ended.
/// Written by the engine on every transition (never by a backend).
/// </summary>
public sealed record SystemRecord
{
    /// <summary>The system id (the primary key).</summary>
    public required string Id { get; init; }

    /// <summary>The uid of the client that created the system (its owner).</summary>
    public required uint OwnerUid { get; init; }

    /// <summary>The name of the client that created the system, for logs.</summary>
    public required string ClientName { get; init; }

    /// <summary>Uids granted access besides the owner (<c>GrantAccess</c>), ascending.</summary>
    public IReadOnlyList<uint> Grants { get; init; } = [];

    /// <summary>The create document, as the client sent it (HCS schema JSON).</summary>
    public required string Document { get; init; }

    /// <summary>The name of the backend that runs the system (<see cref="Backends.IComputeBackend.Name"/>).</summary>
    public required string Backend { get; init; }

    /// <summary>The backend's latest runtime facts (<see cref="Backends.IBackendEventSink.RuntimeFactsChanged"/>), or null before it reported any.</summary>
    public string? RuntimeFacts { get; init; }

    /// <summary>The system's runtime id (reported in its properties), kept across restarts.</summary>
    public Guid RuntimeId { get; init; }

    /// <summary>Where the system was in its lifecycle.</summary>
    public required SystemRecordState State { get; init; }

    /// <summary>The exit status (<c>SystemExitStatus</c> JSON) once <see cref="SystemRecordState.Stopped"/>.</summary>
    public string? ExitStatus { get; init; }

    /// <summary>When the system was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the system first ran, if it did.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the system stopped, if it did.</summary>
    public DateTimeOffset? StoppedAt { get; init; }

    /// <summary>When this record was written.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The lifecycle position persisted with a <see cref="SystemRecord"/>.</summary>
/// <remarks>
/// <see cref="Creating"/>, <see cref="Starting"/> and <see cref="Stopping"/> are transient: a record found in one of
/// them after a restart belongs to a system whose transition the old service never finished, and recovery ends it.
/// </remarks>
public enum SystemRecordState
{
    /// <summary>The backend was constructing the system.</summary>
    Creating,
    /// <summary>Constructed, not started.</summary>
    Created,
    /// <summary>A Start was in flight.</summary>
    Starting,
    /// <summary>Running.</summary>
    Running,
    /// <summary>Paused.</summary>
    Paused,
    /// <summary>A Terminate (or a terminate on last handle close) was in flight.</summary>
    Stopping,
    /// <summary>Stopped; <see cref="SystemRecord.ExitStatus"/> says how.</summary>
    Stopped,
}
