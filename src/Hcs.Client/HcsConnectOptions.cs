// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Host;

namespace Hcs.Client;

/// <summary>Which compute service a client uses.</summary>
public enum HcsServiceMode
{
    /// <summary><c>hcsd</c> when its socket exists, else an embedded engine.</summary>
    Auto,

    /// <summary>Always <c>hcsd</c>; fails with <c>HCS_E_SERVICE_DISCONNECT</c> if it is not running.</summary>
    Daemon,

    /// <summary>Always an engine in this process.</summary>
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

    /// <summary>Settings of the embedded engine; null = <see cref="DefaultEmbedded"/>.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public HostSettings? Embedded { get; init; }

    /// <summary>The client's name in the service's logs; null = this program's file name.</summary>
    public string? ClientName { get; init; }

    /// <summary>The default hcsd socket.</summary>
    public const string DefaultSocket = "/run/hcs/hcsd.sock";

    /// <summary>The socket this connection uses.</summary>
    public string ResolveSocket() =>
        Socket ?? (Environment.GetEnvironmentVariable(SocketVariable) is { Length: > 0 } s ? s : DefaultSocket);

    /// <summary>
    /// An embedded engine's settings: QEMU and runc, runtime directories private to this process
    /// (<c>/run/hcs/embedded/PID</c> for root, else under <c>$XDG_RUNTIME_DIR</c> or the temp directory), no state store.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static HostSettings DefaultEmbedded()
    {
        var runtime = Environment.IsPrivilegedProcess
            ? "/run/hcs/embedded"
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } x ? x : Path.GetTempPath(), "hcs-embedded");
        return new HostSettings
        {
            RuntimeRoot = Path.Combine(runtime, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            StateDirectory = null,
        };
    }
}
