// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Daemon;

/// <summary>
/// What one client can make hcsd hold (docs/security.md, <i>Limits</i>). A session's requests are read only while its
/// outbox (replies and events not yet sent) and its queue (requests read but not started) are under their bounds: a
/// client that does not read its replies stops being read, and HTTP/2 flow control then stops its writes. A request
/// starts only while its session and its uid are under their calls-in-flight caps; until then it waits in the queue,
/// in order, where a <c>cancel</c> still reaches it (reading goes on while the queue has room).
/// </summary>
public sealed record DaemonLimits
{
    /// <summary>
    /// Reading a session's requests pauses while more than this many bytes of its replies and events wait to be sent.
    /// Default 4 MiB (one largest message). The outbox can exceed it by the replies of the calls in flight and by the
    /// events the engine raises meanwhile; reading resumes once the client has taken enough.
    /// </summary>
    public long MaxOutboxBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Calls one session may have running in the engine at once (default 1,024); more wait in its queue.</summary>
    public int MaxCallsPerSession { get; init; } = 1024;

    /// <summary>
    /// Calls all sessions of one uid may have running at once (default 4,096, four sessions' worth, so one session at
    /// its cap leaves room for the same user's other clients); more wait in their sessions' queues.
    /// </summary>
    public int MaxCallsPerUid { get; init; } = 4096;

    /// <summary>
    /// Reading a session's requests pauses while this many requests (default 1,024) wait in its queue for a call slot.
    /// A queue can exceed it by one frame's requests (a frame is read whole, at most 4 MiB on the wire).
    /// </summary>
    public int MaxQueuedRequests { get; init; } = 1024;

    /// <summary>… or while its queued requests hold this many bytes (default 4 MiB).</summary>
    public long MaxQueuedBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Sessions one uid may have open at once, across its connections (default 128); one more is refused with
    /// <c>ERROR_NOT_ENOUGH_QUOTA</c>. Each session holds its engine session, handles and queues, so their number is a
    /// bound too.
    /// </summary>
    public int MaxSessionsPerUid { get; init; } = 128;

    /// <summary>
    /// Connections to the socket one uid may have open at once (default 256); one more is closed as soon as it is
    /// accepted. A connection carries any number of sessions and stdio streams, each bounded above.
    /// </summary>
    public int MaxConnectionsPerUid { get; init; } = 256;

    /// <summary>A <c>Session</c> stream whose first frame (<c>open</c>) has not come within this time is ended with <c>ERROR_TIMEOUT</c> (default 10 s).</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock of <see cref="OpenTimeout"/>; tests inject a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a limit that is not positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxOutboxBytes, 1, nameof(MaxOutboxBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCallsPerSession, 1, nameof(MaxCallsPerSession));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCallsPerUid, 1, nameof(MaxCallsPerUid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedRequests, 1, nameof(MaxQueuedRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSessionsPerUid, 1, nameof(MaxSessionsPerUid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerUid, 1, nameof(MaxConnectionsPerUid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytes, 1, nameof(MaxQueuedBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(OpenTimeout, TimeSpan.Zero, nameof(OpenTimeout));
        ArgumentNullException.ThrowIfNull(Time, nameof(Time));
    }
}

/// <summary>A snapshot of one session's bounded queues (<see cref="DaemonServer.Sessions"/>), with their peaks since it opened.</summary>
/// <param name="Id">The session id.</param>
/// <param name="Uid">The peer's uid.</param>
/// <param name="OutboxBytes">Bytes of replies and events waiting to be sent (or being written) now.</param>
/// <param name="PeakOutboxBytes">The most <paramref name="OutboxBytes"/> has been.</param>
/// <param name="CallsInFlight">Calls running in the engine now.</param>
/// <param name="PeakCallsInFlight">The most <paramref name="CallsInFlight"/> has been.</param>
/// <param name="QueuedRequests">Requests read but waiting for a call slot now.</param>
/// <param name="PeakQueuedRequests">The most <paramref name="QueuedRequests"/> has been.</param>
/// <param name="ReadPauses">How many times reading the session's requests paused for a full outbox or queue.</param>
/// <param name="Reading">False while reading is paused.</param>
public sealed record DaemonSessionStatistics(string Id, uint Uid, long OutboxBytes, long PeakOutboxBytes, int CallsInFlight, int PeakCallsInFlight,
    int QueuedRequests, int PeakQueuedRequests, long ReadPauses, bool Reading);
