// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Qemu;
using Hcs.Backends.Runc;

namespace Hcs.Host;

/// <summary>
/// Where a compute service keeps its sockets, runtime directories and state, and which backends it runs. One record
/// configures both <c>hcsd</c> and the engine a client embeds when no hcsd is running.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed record HostSettings
{
    /// <summary>The default hcsd socket.</summary>
    public const string DefaultSocket = "/run/hcs/hcsd.sock";

    /// <summary>hcsd's gRPC socket (mode 0660).</summary>
    public string Socket { get; init; } = DefaultSocket;

    /// <summary>Group owning the socket (its members may connect), or null to keep the daemon's group.</summary>
    public string? SocketGroup { get; init; }

    /// <summary>Root of the runtime directories: QEMU VMs under <c>vm/</c>, runc containers under <c>ct/</c>.</summary>
    public string RuntimeRoot { get; init; } = "/run/hcs";

    /// <summary>The state directory (the SQLite store, crash reports), or null for none (an embedded engine keeps no state).</summary>
    public string? StateDirectory { get; init; } = "/var/lib/hcs";

    /// <summary>Backends to run, by name: <c>qemu</c>, <c>runc</c>, <c>fake</c>.</summary>
    public IReadOnlyList<string> Backends { get; init; } = ["qemu", "runc"];

    /// <summary>QEMU settings (binary, accelerator, firmware).</summary>
    public QemuSettings Qemu { get; init; } = new();

    /// <summary>runc settings; its <see cref="RuncSettings.RuntimeRoot"/> is replaced by <c>RuntimeRoot/ct</c>.</summary>
    public RuncSettings Runc { get; init; } = new();

    /// <summary>How long a ShutDown waits for the guest before failing with <c>ERROR_TIMEOUT</c>.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>What <c>HcsSubmitWerReport</c> accepts: report size, per-uid and directory quotas.</summary>
    public Hcs.Engine.CrashReportLimits CrashReports { get; init; } = new();
}
