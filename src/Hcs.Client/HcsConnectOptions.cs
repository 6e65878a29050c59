// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client;

/// <summary>Which compute service a client uses.</summary>
public enum HcsServiceMode
{
    /// <summary><c>hcsd</c> when its socket exists, else an embedded engine (which needs the <c>Hcs.Host</c> package).</summary>
    Auto,

    /// <summary>Always <c>hcsd</c>; fails with <c>HCS_E_SERVICE_DISCONNECT</c> if it is not running.</summary>
    Daemon,

    /// <summary>Always an engine in this process (<c>HCS_E_SERVICE_NOT_AVAILABLE</c> without the <c>Hcs.Host</c> package).</summary>
    Embedded,
}

/// <summary>How <see cref="HcsClient.Connect(HcsConnectOptions?)"/> finds its compute service.</summary>
public sealed record HcsConnectOptions
{
    /// <summary>The environment variable naming hcsd's socket (overrides the default, not an explicit <see cref="Socket"/>).</summary>
    public const string SocketVariable = "HCS_SOCKET";

    /// <summary>The hcsd socket; null = <c>$HCS_SOCKET</c>, else <see cref="DefaultSocket"/>.</summary>
    public string? Socket { get; init; }

    /// <summary>Daemon, embedded, or whichever is there (the default).</summary>
    public HcsServiceMode Mode { get; init; } = HcsServiceMode.Auto;

    /// <summary>The client's name in the service's logs; null = this program's file name.</summary>
    public string? ClientName { get; init; }

    /// <summary>The default hcsd socket.</summary>
    public const string DefaultSocket = "/run/hcs/hcsd.sock";

    /// <summary>The socket this connection uses.</summary>
    public string ResolveSocket() =>
        Socket ?? (Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } s ? s : DefaultSocket);
}
