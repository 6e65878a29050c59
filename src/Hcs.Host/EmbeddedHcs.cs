// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using Hcs.Client;
using Hcs.Engine;

namespace Hcs.Host;

/// <summary>
/// The connect-or-embed entry point of an application that runs the compute engine in its own process when no
/// <c>hcsd</c> is there: <see cref="Connect"/> is <see cref="HcsClient.Connect(HcsConnectOptions?)"/> with a choice
/// of the embedded engine's <see cref="HostSettings"/>. Referencing this package is also what lets
/// <see cref="HcsClient.Connect(HcsConnectOptions?)"/> itself embed: this assembly registers its engine with
/// <see cref="HcsEmbedding"/> when it loads, and <see cref="HcsEmbedding"/> loads it by name when it is referenced but
/// not loaded yet.
/// </summary>
public static class EmbeddedHcs
{
    /// <summary>Offers the default embedded engine (<see cref="DefaultSettings"/>) to <see cref="HcsClient.Connect(HcsConnectOptions?)"/>.</summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "Registration is the point: referencing Hcs.Host is how an application says it embeds an engine, and the registration only stores a delegate.")]
    internal static void Register() => HcsEmbedding.Register(() => CreateEngine(null));

    /// <summary>
    /// Connects to <c>hcsd</c> when its socket exists (or when <see cref="HcsConnectOptions.Mode"/> says so), else to an
    /// engine embedded in this process, built from <paramref name="settings"/> (null = <see cref="DefaultSettings"/>)
    /// and disposed with the client.
    /// </summary>
    public static HcsClient Connect(HcsConnectOptions? options = null, HostSettings? settings = null) =>
        HcsClient.ConnectOrEmbed(options, () => CreateEngine(settings));

    /// <summary>
    /// An embedded engine's settings: QEMU and runc, runtime directories private to this process
    /// (<c>/run/hcs/embedded/PID</c> for root, else under <c>$XDG_RUNTIME_DIR</c> or the temp directory), no state store.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public static HostSettings DefaultSettings()
    {
        var runtime = Environment.IsPrivilegedProcess
            ? "/run/hcs/embedded"
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } x ? x : Path.GetTempPath(), "hcs-embedded");
        return new HostSettings
        {
            RuntimeRoot = Path.Combine(runtime, Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
            StateDirectory = null,
        };
    }

    private static ComputeEngine CreateEngine(HostSettings? settings)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the embedded compute engine runs on Linux only");
        }

        return ServiceHost.CreateEngine(settings ?? DefaultSettings());
    }
}
