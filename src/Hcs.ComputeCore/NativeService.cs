// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Host;
using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// Which compute service the library's calls reach, chosen once per process from the environment, as
/// <c>computecore.dll</c> always reaches <c>vmcompute</c>: by default <c>hcsd</c> on <c>$HCS_SOCKET</c>, else
/// <c>/run/hcs/hcsd.sock</c>; <c>HCS_SERVICE_MODE=embedded</c> runs the engine in this process instead (tests and
/// single-process tools; it then starts QEMU and runc itself), <c>auto</c> embeds only when no hcsd socket exists.
/// The connection is made on the first call that needs it; a failure (hcsd not running) fails that call and the next
/// call tries again.
/// </summary>
internal static class NativeService
{
    /// <summary>The environment variable that selects the service: <c>daemon</c> (default), <c>embedded</c> or <c>auto</c>.</summary>
    public const string ModeVariable = "HCS_SERVICE_MODE";

    private static int s_configured;

    /// <summary>Configures <see cref="HcsClient.Current"/> for this process (once).</summary>
    public static void Ensure()
    {
        if (Volatile.Read(ref s_configured) != 0 || Interlocked.Exchange(ref s_configured, 1) != 0)
        {
            return;
        }

        var mode = Environment.GetEnvironmentVariable(ModeVariable) switch
        {
            null or "" or "daemon" => HcsServiceMode.Daemon,
            "embedded" => HcsServiceMode.Embedded,
            "auto" => HcsServiceMode.Auto,
            _ => (HcsServiceMode?)null,
        };
        if (mode is not { } chosen)
        {
            var value = Environment.GetEnvironmentVariable(ModeVariable);
            var message = $"{ModeVariable}={Truncate(value)} is not one of daemon, embedded, auto";
            HcsClient.ConfigureDefault(() => throw new HcsException(HResults.HCS_E_SERVICE_NOT_AVAILABLE, "Connect",
                result: ResultError.From(HResults.HCS_E_SERVICE_NOT_AVAILABLE, message, "Configuration")));
            return;
        }

        var options = new HcsConnectOptions { Mode = chosen, ClientName = "libcomputecore" };
        HcsClient.ConfigureDefault(() => OperatingSystem.IsLinux()
            ? EmbeddedHcs.Connect(options, EmbeddedSettings())
            : throw new PlatformNotSupportedException("libcomputecore runs on Linux"));
    }

    /// <summary>The embedded engine's settings: the defaults, with the hcs-shim found next to this library (when there is one).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static HostSettings EmbeddedSettings()
    {
        var defaults = EmbeddedHcs.DefaultSettings();
        return LibraryLocation.Shim() is not { } shim
            ? defaults
            : defaults with { Qemu = defaults.Qemu with { LauncherPath = shim }, Runc = defaults.Runc with { ShimPath = shim } };
    }

    private static string Truncate(string? value) => value is null ? "" : value.Length <= 64 ? value : value[..64] + "…";
}
