// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Host;

namespace Hcs.Daemon;

/// <summary>hcsd's command line: every option maps to one <see cref="HostSettings"/> member.</summary>
internal static class DaemonCommandLine
{
    public const string Usage = """
        usage: hcsd [options]

        The Host Compute Service daemon: owns compute systems (QEMU VMs, runc containers) and serves them over gRPC on
        a Unix socket. Systems outlive hcsd: SIGTERM stops it gracefully (systems keep running, state is flushed), and
        a restarted hcsd re-adopts them.

        options:
          --socket PATH          the socket (default /run/hcs/hcsd.sock); mode 0660
          --socket-group GROUP   group allowed to connect (name or gid; default: hcsd's group)
          --state-dir DIR        the state store and crash reports (default /var/lib/hcs)
          --runtime-root DIR     runtime directories of VMs and containers (default /run/hcs)
          --backends LIST        comma-separated: qemu, runc, fake (default qemu,runc)
          --accelerator A        QEMU accelerator: tcg, kvm (default tcg)
          --shutdown-timeout S   seconds a ShutDown waits for the guest (default 240)
          --log-format F         text or json (default text; json is one object per line)
          --log-level L          trace, debug, information, warning, error (default information)
          -h, --help             this text
        """;

    public static (HostSettings Settings, string LogFormat, string LogLevel) Parse(IReadOnlyList<string> args)
    {
        var settings = new HostSettings();
        var logFormat = "text";
        var logLevel = "information";
        for (var i = 0; i < args.Count; i++)
        {
            var option = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{option} needs a value");
            switch (option)
            {
                case "--socket":
                    settings = settings with { Socket = Value() };
                    break;
                case "--socket-group":
                    settings = settings with { SocketGroup = Value() };
                    break;
                case "--state-dir":
                    settings = settings with { StateDirectory = Value() };
                    break;
                case "--runtime-root":
                    settings = settings with { RuntimeRoot = Value() };
                    break;
                case "--backends":
                    settings = settings with { Backends = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                    break;
                case "--accelerator":
                    settings = settings with { Qemu = settings.Qemu with { Accelerator = Value() } };
                    break;
                case "--shutdown-timeout":
                    settings = settings with { ShutdownTimeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)) };
                    break;
                case "--log-format":
                    logFormat = Value() is "text" or "json" ? args[i] : throw new ArgumentException("--log-format is text or json");
                    break;
                case "--log-level":
                    logLevel = Value();
                    break;
                default:
                    throw new ArgumentException($"unknown option '{option}'");
            }
        }

        return (settings, logFormat, logLevel);
    }
}
