// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Linux;

namespace Hcs.Engine.Backends;

/// <summary>
/// The client on whose behalf a backend call acts, for everything it does with host paths named by that client: a
/// backend opens, creates, unlinks, binds, attaches and joins those paths through <see cref="HostFiles"/>, which does
/// it with this caller's file system credentials (uid, gid, supplementary groups), so a client can make the service
/// do only what it could do itself. <see cref="Current"/> is set by the engine for the duration of every call a
/// session makes (it flows into the tasks the call starts); it is null when the service acts as itself: a root
/// caller, the embedded engine, and work that no client asked for (recovery, clean-up).
/// </summary>
/// <param name="Uid">The caller's uid (never 0: a root caller is <c>null</c>).</param>
/// <param name="Gid">The caller's primary gid.</param>
/// <param name="Groups">The caller's supplementary groups (<c>SO_PEERGROUPS</c> in hcsd).</param>
public sealed record HostCaller(uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    private static readonly AsyncLocal<HostCaller?> s_current = new();

    /// <summary>The caller of the backend call in progress; null when the service acts as itself.</summary>
    public static HostCaller? Current => s_current.Value;

    /// <summary>The caller a session's identity stands for: null for root (uid 0), else its uid, gid and groups.</summary>
    public static HostCaller? Of(ClientIdentity client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.Uid == 0 ? null : new HostCaller(client.Uid, client.Gid, client.Groups ?? []);
    }

    /// <summary>These credentials as the Linux layer takes them (to run work with them: <see cref="HostCredentials.RunAsync{T}"/>).</summary>
    public HostCredentials Credentials => new(Uid, Gid, Groups);

    /// <summary>Makes <paramref name="caller"/> the <see cref="Current"/> one until the scope is disposed.</summary>
    public static Scope Enter(HostCaller? caller)
    {
        var previous = s_current.Value;
        s_current.Value = caller;
        return new Scope(previous);
    }

    /// <inheritdoc />
    public override string ToString() => $"uid {Uid} (gid {Gid}{(Groups.Count > 0 ? ", groups " + string.Join(',', Groups) : "")})";

    /// <summary>Restores the caller that was current before <see cref="Enter"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly HostCaller? _previous;

        internal Scope(HostCaller? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => s_current.Value = _previous;
    }
}
