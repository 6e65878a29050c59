// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// EventData of <c>SystemRdpEnhancedModeStateChanged</c> (an hcs extension: HCS documents no EventData for it).
/// On the QEMU backend the remote console is a VNC server on a Unix socket; each QMP <c>VNC_CONNECTED</c>,
/// <c>VNC_INITIALIZED</c> and <c>VNC_DISCONNECTED</c> event becomes one of these. See docs/events.md.
/// </summary>
public sealed record RemoteConsoleStateChange
{
    /// <summary>True when a client connected or finished its handshake; false when one disconnected.</summary>
    public bool Connected { get; init; }

    /// <summary>What happened.</summary>
    public RemoteConsoleState? State { get; init; }

    /// <summary>The console protocol (<c>vnc</c>).</summary>
    public string? Protocol { get; init; }

    /// <summary>Where the console listens (on Linux: a Unix socket path).</summary>
    public string? Endpoint { get; init; }

    /// <summary>Clients connected after this change.</summary>
    public uint? Clients { get; init; }

    /// <summary>When the backend observed the change (QEMU's own event timestamp, microsecond resolution).</summary>
    public DateTimeOffset? Timestamp { get; init; }
}

/// <summary>The stages of a remote console session.</summary>
public enum RemoteConsoleState
{
    /// <summary>A client connected to the console endpoint (the protocol handshake has not finished).</summary>
    Connected,
    /// <summary>The client finished the handshake (authentication included): the session is usable.</summary>
    Initialized,
    /// <summary>The client disconnected.</summary>
    Disconnected,
}

/// <summary>
/// EventData of <c>SystemGuestConnectionClosed</c> (an hcs extension: HCS documents no EventData for it). On the
/// QEMU backend a guest connection is a <c>Devices.VirtioSerial</c> port; QMP <c>VSERPORT_CHANGE</c> with
/// <c>open: false</c> (the guest closed its end) becomes one of these. See docs/events.md.
/// </summary>
public sealed record GuestConnectionClosedInfo
{
    /// <summary>Why the connection closed, in words.</summary>
    public string? Reason { get; init; }

    /// <summary>The port's key in <c>Devices.VirtioSerial.Ports</c>.</summary>
    public string? Port { get; init; }

    /// <summary>The port's name as the guest sees it (<c>/dev/virtio-ports/NAME</c>).</summary>
    public string? Name { get; init; }

    /// <summary>The host end of the port (a Unix socket path).</summary>
    public string? NamedPipe { get; init; }

    /// <summary>When the backend observed the close (QEMU's own event timestamp).</summary>
    public DateTimeOffset? Timestamp { get; init; }
}
