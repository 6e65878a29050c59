// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Serialization;

namespace Hcs.Shim.Protocol;

/// <summary>
/// A reply on the control socket (monitor → engine), one JSON line with the <see cref="Id"/> of its request. Replies
/// carry no type member: the client knows which reply a request gets, and an <see cref="ErrorReply"/> is the one with
/// <c>error</c> and <c>code</c>. A reply that returns a pid is always written before any event about that pid.
/// </summary>
/// <param name="Id">The id of the request answered (0 when the request could not be read far enough to know it).</param>
[JsonDerivedType(typeof(HelloReply))]
[JsonDerivedType(typeof(ExecReply))]
[JsonDerivedType(typeof(OkReply))]
[JsonDerivedType(typeof(ErrorReply))]
public abstract record ShimReply([property: JsonPropertyOrder(-1)] long Id);

/// <summary>The answer to <see cref="HelloRequest"/> when the versions agree.</summary>
/// <param name="Id">The request id.</param>
/// <param name="Version">The monitor's <see cref="ShimProtocol.ProtocolVersion"/>.</param>
/// <param name="InitPid">Host pid of the container's init.</param>
/// <param name="Ready">Whether the init has said it is ready (a client that connected after <see cref="InitReadyEvent"/> learns it here).</param>
public sealed record HelloReply(long Id, int Version, int InitPid, bool Ready) : ShimReply(Id);

/// <summary>The answer to <see cref="ExecRequest"/>.</summary>
/// <param name="Id">The request id.</param>
/// <param name="Pid">Host pid of the new process.</param>
/// <param name="NsPid">Its pid inside the container (0 when unknown).</param>
public sealed record ExecReply(long Id, int Pid, int NsPid) : ShimReply(Id);

/// <summary>The answer to <see cref="SignalRequest"/> and <see cref="ResizeRequest"/>.</summary>
/// <param name="Id">The request id.</param>
public sealed record OkReply(long Id) : ShimReply(Id);

/// <summary>A failed request.</summary>
/// <param name="Id">The request id (0 when the request could not be read far enough to know it).</param>
/// <param name="Error">What went wrong, for people.</param>
/// <param name="Code">One of <see cref="ShimErrorCodes"/>.</param>
public sealed record ErrorReply(long Id, string Error, string Code) : ShimReply(Id)
{
    /// <summary>With <see cref="ShimErrorCodes.VersionMismatch"/>: the monitor's protocol version.</summary>
    public int? Version { get; init; }
}
