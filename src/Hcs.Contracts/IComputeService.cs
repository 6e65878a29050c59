// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Contracts;

/// <summary>
/// The transport-agnostic compute service: what <c>hcsd</c> serves over its socket and what the embedded
/// engine implements in-process. Documents cross this interface as HCS schema JSON strings and failures as
/// <see cref="Hcs.Schema.HcsException"/>, exactly as they cross the wire.
/// </summary>
public interface IComputeService : IAsyncDisposable
{
    /// <summary>
    /// Opens a client session. Every handle belongs to one session; when the session ends (disposed, or the client
    /// went away) its handles close, which applies <c>ShouldTerminateOnLastHandleClosed</c>.
    /// </summary>
    IComputeSession OpenSession(ClientIdentity client);
}

/// <summary>Who a session belongs to.</summary>
/// <param name="Name">Client name (process name), used for logs.</param>
/// <param name="Uid">The peer's uid (SO_PEERCRED in hcsd; the current uid when embedded).</param>
/// <param name="Pid">The peer's pid, when known.</param>
/// <param name="Gid">The peer's gid (SO_PEERCRED in hcsd).</param>
/// <param name="Groups">The peer's supplementary groups (SO_PEERGROUPS in hcsd); null when not known.</param>
public sealed record ClientIdentity(string Name, uint Uid = 0, int Pid = 0, uint Gid = 0, IReadOnlyList<uint>? Groups = null);
