// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Serialization;

namespace Hcs.Shim.Protocol;

/// <summary>
/// A request on the control socket (engine → monitor), one JSON line; <c>op</c> says which. The monitor answers each
/// exactly once with a <see cref="ShimReply"/> of the same <see cref="Id"/>.
/// </summary>
/// <param name="Id">Chosen by the client; the reply carries it back.</param>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "op")]
[JsonDerivedType(typeof(HelloRequest), "hello")]
[JsonDerivedType(typeof(ExecRequest), "exec")]
[JsonDerivedType(typeof(SignalRequest), "signal")]
[JsonDerivedType(typeof(ResizeRequest), "resize")]
public abstract record ShimRequest([property: JsonPropertyOrder(-1)] long Id);

/// <summary>
/// The first request of every connection: the client's protocol version. Answered by <see cref="HelloReply"/> (the
/// versions agree) or by an <see cref="ErrorReply"/> with <see cref="ShimErrorCodes.VersionMismatch"/>. It may be sent
/// again later to learn the init's pid and readiness.
/// </summary>
/// <param name="Id">The request id.</param>
/// <param name="Version">The client's <see cref="ShimProtocol.ProtocolVersion"/>.</param>
public sealed record HelloRequest(long Id, int Version) : ShimRequest(Id);

/// <summary>Runs a process in the container (<c>runc exec -d</c>); answered by <see cref="ExecReply"/>.</summary>
/// <param name="Id">The request id.</param>
/// <param name="Spec">Absolute path of an OCI process JSON file.</param>
/// <param name="Tty">True for a console (a pty); its stderr is then not used.</param>
/// <param name="Stdin">A Unix stream socket the client listens on, or null for <c>/dev/null</c>.</param>
/// <param name="Stdout">A Unix stream socket the client listens on, or null for <c>/dev/null</c>.</param>
/// <param name="Stderr">A Unix stream socket the client listens on, or null for <c>/dev/null</c>.</param>
public sealed record ExecRequest(long Id, string Spec, bool Tty = false, string? Stdin = null, string? Stdout = null, string? Stderr = null)
    : ShimRequest(Id);

/// <summary><c>kill(Pid, Signal)</c> for a process the monitor started and has not reaped; answered by <see cref="OkReply"/>.</summary>
/// <param name="Id">The request id.</param>
/// <param name="Pid">Host pid of the init or of an exec'd process.</param>
/// <param name="Signal">Signal number, 1..64.</param>
public sealed record SignalRequest(long Id, int Pid, int Signal) : ShimRequest(Id);

/// <summary>Resizes the console of a <c>tty:true</c> process; answered by <see cref="OkReply"/>.</summary>
/// <param name="Id">The request id.</param>
/// <param name="Pid">Host pid of the process.</param>
/// <param name="Rows">Rows, 1..65535.</param>
/// <param name="Cols">Columns, 1..65535.</param>
public sealed record ResizeRequest(long Id, int Pid, int Rows, int Cols) : ShimRequest(Id);
