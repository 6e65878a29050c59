// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Host;
using Microsoft.Extensions.Logging;

namespace Hcs.Daemon;

/// <summary>What hcsd's command line says: the host settings, the logging, and the per-client limits.</summary>
/// <param name="Settings">Sockets, directories, backends, engine settings.</param>
/// <param name="LogFormat"><c>text</c> or <c>json</c>.</param>
/// <param name="LogLevel">The minimum log level.</param>
/// <param name="Limits">What one client can make hcsd hold.</param>
internal sealed record DaemonArguments(HostSettings Settings, string LogFormat, LogLevel LogLevel, DaemonLimits Limits)
{
    public void Deconstruct(out HostSettings settings, out string logFormat, out LogLevel logLevel)
    {
        settings = Settings;
        logFormat = LogFormat;
        logLevel = LogLevel;
    }
}

/// <summary>
/// hcsd's options, from its configuration file (<see cref="DefaultConfig"/> or <c>--config</c>) and its command line,
/// which overrides the file: every option maps to one <see cref="HostSettings"/> or <see cref="DaemonLimits"/> member,
/// and a file line is the option without its dashes (<c>socket = /run/hcs/hcsd.sock</c>). Every value is checked here,
/// so a bad one is a usage error (<see cref="UsageExitCode"/>; a file's names the file and line) and never reaches the
/// engine.
/// </summary>
internal static class DaemonCommandLine
{
    /// <summary>The exit code of a command line hcsd cannot run with, as hcsctl's usage errors.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The line printed after a usage error, in place of the whole <see cref="Usage"/>.</summary>
    public const string ShortUsage = "usage: hcsd [options]; 'hcsd --help' lists them";

    // The longest timeout a wait takes (Task.WaitAsync and CancellationTokenSource refuse more than 2^32 - 2 ms).
    private const double MaxSeconds = 4_294_967;

    private static readonly string[] s_backends = ["qemu", "runc", "fake"];

    private static readonly string[] s_accelerators = ["tcg", "kvm"];

    public const string Usage = """
        usage: hcsd [options]

        The Host Compute Service daemon: owns compute systems (QEMU VMs, runc containers) and serves them over gRPC on
        a Unix socket. Systems outlive hcsd: SIGTERM stops it gracefully (systems keep running, state is flushed), and
        a restarted hcsd re-adopts them.

        options (also read from /etc/hcs/hcsd.conf, one KEY = VALUE line per option, KEY without
        the dashes; the command line overrides the file):
          --config PATH          the configuration file (default /etc/hcs/hcsd.conf; hcsd runs with
                                 the defaults when that one is absent)
          --socket PATH          the socket (default /run/hcs/hcsd.sock); mode 0660
          --socket-group GROUP   group allowed to connect (name or gid; default: hcsd's group)
          --state-dir DIR        the state store and crash reports (default /var/lib/hcs)
          --runtime-root DIR     runtime directories of VMs and containers (default /run/hcs)
          --backends LIST        comma-separated: qemu, runc, fake (default qemu,runc)
          --accelerator A        QEMU accelerator: tcg, kvm (default tcg)
          --shutdown-timeout S   seconds a ShutDown waits for the guest (default 240)
          --log-format F         text or json (default text; json is one object per line)
          --log-level L          trace, debug, information, warning, error, critical, none
                                 (default information)
          -h, --help             this text
          --version              hcsd's version (and the commit it was built from)

        limits per client (docs/security.md):
          --max-outbox-mib N         a session is no longer read while N MiB of its replies and events
                                     wait to be sent (default 4)
          --max-calls-per-session N  calls of one session running at once; more wait in order (default 1024)
          --max-calls-per-uid N      calls of all sessions of one uid running at once (default 4096)
          --max-sessions-per-uid N   sessions one uid may have open (default 128)
          --max-connections-per-uid N
                                     connections to the socket one uid may have open (default 256)
          --max-queued N             a session is no longer read while N requests wait for a slot (default 1024)
          --open-timeout S           seconds a new session stream has to send `open` (default 10)
          --wer-max-reports N        crash reports one uid may have filed (default 100)
          --wer-max-mib N            MiB of crash reports one uid may have filed (default 64)
          --wer-max-directory-mib N  MiB the crash directory may hold in all (default 1024)
        """;

    /// <summary>The configuration file hcsd reads when no <c>--config</c> is given; hcsd runs with the defaults when it is absent.</summary>
    public const string DefaultConfig = "/etc/hcs/hcsd.conf";

    /// <summary>
    /// Parses hcsd's options: first those of the configuration file (<c>--config PATH</c>, else
    /// <paramref name="defaultConfig"/> when it exists), then those of <paramref name="args"/>, so the command line
    /// overrides the file. A file line is <c>KEY = VALUE</c>, KEY an option's name without its dashes; blank lines and
    /// lines starting with <c>#</c> are ignored. Every error is an <see cref="ArgumentException"/> whose message is the
    /// usage error to print (for a file line: <c>FILE:LINE: ...</c>).
    /// </summary>
    public static DaemonArguments Parse(IReadOnlyList<string> args, string defaultConfig = DefaultConfig)
    {
        // Every option takes one value, so the command line is (option, value) pairs; --config is found before anything
        // is applied because the file's options come first.
        var pairs = new List<(string Option, string? Value)>();
        for (var i = 0; i < args.Count; i += 2)
        {
            pairs.Add((args[i], i + 1 < args.Count ? args[i + 1] : null));
        }

        var builder = new Builder();
        var config = pairs.LastOrDefault(p => p.Option == ConfigOption);
        if (config.Option is not null)
        {
            if (string.IsNullOrEmpty(config.Value))
            {
                throw new ArgumentException($"{ConfigOption} needs a value");
            }

            ApplyFile(builder, config.Value, required: true);
        }
        else
        {
            ApplyFile(builder, defaultConfig, required: false);
        }

        foreach (var (option, value) in pairs)
        {
            if (option != ConfigOption)
            {
                builder.Apply(option, value);
            }
        }

        return new DaemonArguments(builder.Settings, builder.LogFormat, builder.LogLevel, builder.Limits);
    }

    private const string ConfigOption = "--config";

    private static void ApplyFile(Builder builder, string path, bool required)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (!required && e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"cannot read the configuration file {path}: {e.Message}", e);
        }

        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var where = string.Create(CultureInfo.InvariantCulture, $"{path}:{n + 1}");
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                throw new ArgumentException($"{where}: expected KEY = VALUE, not '{line}'");
            }

            var key = line[..equals].TrimEnd();
            var value = line[(equals + 1)..].TrimStart();
            if (key == ConfigOption[2..])
            {
                throw new ArgumentException($"{where}: a configuration file cannot name another");
            }

            if (key.Length == 0 || key.StartsWith('-'))
            {
                throw new ArgumentException($"{where}: unknown key '{key}'");
            }

            if (value.Length == 0)
            {
                throw new ArgumentException($"{where}: {key} needs a value");
            }

            try
            {
                builder.Apply("--" + key, value);
            }
            catch (ArgumentException e)
            {
                // The option's own message, worded for the file: "--socket needs ..." → "socket needs ...".
                var message = e.Message.StartsWith($"unknown option '--{key}'", StringComparison.Ordinal)
                    ? $"unknown key '{key}'"
                    : e.Message.Replace("--" + key, key, StringComparison.Ordinal);
                throw new ArgumentException($"{where}: {message}", e);
            }
        }
    }

    /// <summary>The options applied so far; <see cref="Apply"/> checks and applies one.</summary>
    private sealed class Builder
    {
        public HostSettings Settings { get; private set; } = new();

        public DaemonLimits Limits { get; private set; } = new();

        public string LogFormat { get; private set; } = "text";

        public LogLevel LogLevel { get; private set; } = LogLevel.Information;

        public void Apply(string option, string? argument)
        {
            var settings = Settings;
            var limits = Limits;
            string Value() => argument ?? throw new ArgumentException($"{option} needs a value");
            int Count() => int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
                ? n : throw new ArgumentException($"{option} takes a positive whole number, not '{argument}'");
            TimeSpan Seconds() => double.TryParse(Value(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var s) && s is > 0 and <= MaxSeconds
                ? TimeSpan.FromSeconds(s)
                : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{option} takes a positive number of seconds up to {MaxSeconds}, not '{argument}'"));
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
                    settings = settings with { Backends = Backends(Value()) };
                    break;
                case "--accelerator":
                    settings = settings with { Qemu = settings.Qemu with { Accelerator = OneOf(option, Value(), s_accelerators) } };
                    break;
                case "--shutdown-timeout":
                    settings = settings with { ShutdownTimeout = Seconds() };
                    break;
                case "--log-format":
                    LogFormat = OneOf(option, Value(), ["text", "json"]);
                    break;
                case "--log-level":
                    LogLevel = Level(Value());
                    break;
                case "--max-outbox-mib":
                    limits = limits with { MaxOutboxBytes = Count() * 1024L * 1024 };
                    break;
                case "--max-calls-per-session":
                    limits = limits with { MaxCallsPerSession = Count() };
                    break;
                case "--max-calls-per-uid":
                    limits = limits with { MaxCallsPerUid = Count() };
                    break;
                case "--max-connections-per-uid":
                    limits = limits with { MaxConnectionsPerUid = Count() };
                    break;
                case "--max-sessions-per-uid":
                    limits = limits with { MaxSessionsPerUid = Count() };
                    break;
                case "--max-queued":
                    limits = limits with { MaxQueuedRequests = Count() };
                    break;
                case "--open-timeout":
                    limits = limits with { OpenTimeout = Seconds() };
                    break;
                case "--wer-max-reports":
                    settings = settings with { CrashReports = settings.CrashReports with { MaxReportsPerUid = Count() } };
                    break;
                case "--wer-max-mib":
                    settings = settings with { CrashReports = settings.CrashReports with { MaxBytesPerUid = Count() * 1024L * 1024 } };
                    break;
                case "--wer-max-directory-mib":
                    settings = settings with { CrashReports = settings.CrashReports with { MaxDirectoryBytes = Count() * 1024L * 1024 } };
                    break;
                default:
                    throw new ArgumentException($"unknown option '{option}'");
            }

            Settings = settings;
            Limits = limits;
        }
    }

    private static string OneOf(string option, string value, string[] allowed) => allowed.Contains(value, StringComparer.Ordinal)
        ? value
        : throw new ArgumentException($"{option} is {string.Join(", ", allowed[..^1])} or {allowed[^1]}, not '{value}'");

    private static string[] Backends(string value)
    {
        var names = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
        {
            throw new ArgumentException("--backends names at least one of qemu, runc, fake");
        }

        foreach (var name in names)
        {
            _ = OneOf("--backends", name, s_backends);
        }

        return names;
    }

    // By name only: Enum.TryParse would also take any number.
    private static LogLevel Level(string value)
    {
        foreach (var level in Enum.GetValues<LogLevel>())
        {
            if (string.Equals(level.ToString(), value, StringComparison.OrdinalIgnoreCase))
            {
                return level;
            }
        }

        throw new ArgumentException($"--log-level is trace, debug, information, warning, error, critical or none, not '{value}'");
    }
}
