// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Shim.Protocol;

/// <summary>
/// The version of the protocol between the engine and <c>hcs-shim monitor</c> (docs/shim-protocol.md), and the names
/// both sides agree on. Both sides check the version at connect: the engine's first request is
/// <see cref="HelloRequest"/>, the monitor answers it with <see cref="HelloReply"/> when the versions are equal and with
/// an <see cref="ErrorReply"/> of code <see cref="ShimErrorCodes.VersionMismatch"/> (then closes the connection)
/// otherwise, and the engine checks the version of the reply as well.
/// </summary>
public static class ShimProtocol
{
    /// <summary>
    /// The version this build speaks. Raise it with any change to a message that the other side could misread; both
    /// sides refuse a peer of another version. Monitors that predate the hello exchange speak version 0.
    /// </summary>
    public const int ProtocolVersion = 1;

    /// <summary>The version of a monitor that predates the hello exchange (it answers <c>hello</c> as an unknown op).</summary>
    public const int PreHelloVersion = 0;

    /// <summary>The control socket's file name in the monitor's state directory.</summary>
    public const string SocketName = "shim.sock";

    /// <summary>The directory of exit records in the monitor's state directory (<c>exit/PID.json</c>).</summary>
    public const string ExitDirectoryName = "exit";

    /// <summary>The longest request line the monitor reads; a longer one closes the connection.</summary>
    public const int MaxLineLength = 1 << 20;

    /// <summary>The message both sides give for peers of different versions.</summary>
    /// <param name="monitorVersion">The monitor's version (<see cref="PreHelloVersion"/> for a monitor without hello).</param>
    /// <param name="clientVersion">The client's (the engine's) version.</param>
    public static string MismatchMessage(int monitorVersion, int clientVersion) => monitorVersion == PreHelloVersion
        ? $"the container monitor predates shim protocol versions (version {PreHelloVersion}); this client speaks version {clientVersion}"
        : $"the container monitor speaks shim protocol version {monitorVersion}; this client speaks version {clientVersion}";

    /// <summary>
    /// The monitor's answer to <paramref name="hello"/>: a <see cref="HelloReply"/> with <paramref name="initPid"/> and
    /// <paramref name="initReady"/> when the client speaks <see cref="ProtocolVersion"/>, else an
    /// <see cref="ErrorReply"/> (<see cref="ShimErrorCodes.VersionMismatch"/>) naming both versions.
    /// </summary>
    public static ShimReply Answer(HelloRequest hello, int initPid, bool initReady)
    {
        ArgumentNullException.ThrowIfNull(hello);
        return hello.Version == ProtocolVersion
            ? new HelloReply(hello.Id, ProtocolVersion, initPid, initReady)
            : new ErrorReply(hello.Id, MismatchMessage(ProtocolVersion, hello.Version), ShimErrorCodes.VersionMismatch) { Version = ProtocolVersion };
    }

    /// <summary>
    /// The client's check of the monitor's answer to its hello: the monitor's version when it differs from
    /// <see cref="ProtocolVersion"/> (<see cref="PreHelloVersion"/> for a monitor that does not know hello), or null
    /// when the versions agree. <paramref name="reply"/> is the reply as received (a <see cref="HelloReply"/> or an
    /// <see cref="ErrorReply"/>).
    /// </summary>
    /// <exception cref="ArgumentException">An error reply that is about something else than the version.</exception>
    public static int? MonitorVersionIfMismatched(ShimReply reply) => reply switch
    {
        HelloReply { Version: ProtocolVersion } => null,
        HelloReply ok => ok.Version,
        ErrorReply { Code: ShimErrorCodes.VersionMismatch } e => e.Version ?? PreHelloVersion,
        // A monitor of version 0 answers an op it does not know with bad-request.
        ErrorReply { Code: ShimErrorCodes.BadRequest } e when e.Error.Contains("unknown op", StringComparison.Ordinal) => PreHelloVersion,
        _ => throw new ArgumentException($"not an answer to hello: {reply}", nameof(reply)),
    };
}

/// <summary>The <c>code</c> of an <see cref="ErrorReply"/>.</summary>
public static class ShimErrorCodes
{
    /// <summary>runc exec failed (the message is runc's), or the container's init has exited.</summary>
    public const string ExecFailed = "exec-failed";

    /// <summary>No such process was started by this monitor, or it has no console.</summary>
    public const string NotFound = "not-found";

    /// <summary>The process has already exited.</summary>
    public const string Exited = "exited";

    /// <summary>The request is malformed (not JSON, an unknown op, a missing or invalid member).</summary>
    public const string BadRequest = "bad-request";

    /// <summary>The monitor failed (a system call, its files).</summary>
    public const string Internal = "internal";

    /// <summary>The client speaks another protocol version, or sent a request before hello; the monitor then closes the connection.</summary>
    public const string VersionMismatch = "version-mismatch";
}
