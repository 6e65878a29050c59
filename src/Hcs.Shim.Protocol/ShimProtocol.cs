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
    /// The client's check of the monitor's answer to its hello (as received: a <see cref="HelloReply"/> or an
    /// <see cref="ErrorReply"/>): true, with the monitor's version, when the versions differ —
    /// <see cref="PreHelloVersion"/> for a monitor that answers hello as an unknown op. False when the versions agree,
    /// and for an error about something else (the caller reports it as such).
    /// </summary>
    public static bool IsMismatch(ShimReply reply, out int monitorVersion)
    {
        (bool mismatch, monitorVersion) = reply switch
        {
            HelloReply ok => (ok.Version != ProtocolVersion, ok.Version),
            ErrorReply { Code: ShimErrorCodes.VersionMismatch } e => (true, e.Version ?? PreHelloVersion),
            // A monitor of version 0 answers an op it does not know with bad-request.
            ErrorReply { Code: ShimErrorCodes.BadRequest } e when e.Error.StartsWith("unknown op 'hello'", StringComparison.Ordinal) => (true, PreHelloVersion),
            _ => (false, ProtocolVersion),
        };
        return mismatch;
    }
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
