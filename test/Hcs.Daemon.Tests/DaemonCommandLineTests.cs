// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Microsoft.Extensions.Logging;

namespace Hcs.Daemon.Tests;

/// <summary>
/// hcsd's own command line: every value is checked when it is parsed, and a command line hcsd cannot run with is one
/// error line and the short usage on stderr with exit code 2 (as hcsctl's usage errors), never a stack trace.
/// </summary>
public sealed class DaemonCommandLineTests
{
    [Theory]
    [InlineData(new[] { "--log-level", "nonsense" }, "--log-level is trace, debug, information, warning, error, critical or none, not 'nonsense'")]
    [InlineData(new[] { "--log-level", "3" }, "--log-level is trace, debug, information, warning, error, critical or none, not '3'")]
    [InlineData(new[] { "--no-such-option" }, "unknown option '--no-such-option'")]
    [InlineData(new[] { "--backends", "fake", "--socket" }, "--socket needs a value")]
    [InlineData(new[] { "--max-queued", "lots" }, "--max-queued takes a positive whole number, not 'lots'")]
    [InlineData(new[] { "--max-calls-per-uid", "99999999999" }, "--max-calls-per-uid takes a positive whole number, not '99999999999'")]
    [InlineData(new[] { "--shutdown-timeout", "soon" }, "--shutdown-timeout takes a positive number of seconds up to 4294967, not 'soon'")]
    [InlineData(new[] { "--shutdown-timeout", "-5" }, "--shutdown-timeout takes a positive number of seconds up to 4294967, not '-5'")]
    [InlineData(new[] { "--open-timeout", "99999999999999999999" }, "--open-timeout takes a positive number of seconds up to 4294967, not '99999999999999999999'")]
    [InlineData(new[] { "--log-format", "xml" }, "--log-format is text or json, not 'xml'")]
    [InlineData(new[] { "--backends", "qemu,xen" }, "--backends is qemu, runc or fake, not 'xen'")]
    [InlineData(new[] { "--backends", "," }, "--backends names at least one of qemu, runc, fake")]
    [InlineData(new[] { "--accelerator", "hvf" }, "--accelerator is tcg or kvm, not 'hvf'")]
    public async Task Hcsd_BadCommandLine_IsOneErrorLineAndTheShortUsage_ExitCode2(string[] args, string error)
    {
        var (code, output, stderr) = await HcsdProcess.RunToExitSeparatelyAsync(args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal([$"hcsd: {error}", "usage: hcsd [options]; 'hcsd --help' lists them"], stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Parse_AcceptsEveryDocumentedValue()
    {
        var parsed = DaemonCommandLine.Parse(["--backends", "qemu, runc,fake", "--accelerator", "kvm", "--shutdown-timeout", "0.5",
            "--log-format", "json", "--log-level", "WARNING"]);

        Assert.Equal(["qemu", "runc", "fake"], parsed.Settings.Backends);
        Assert.Equal("kvm", parsed.Settings.Qemu.Accelerator);
        Assert.Equal(TimeSpan.FromSeconds(0.5), parsed.Settings.ShutdownTimeout);
        Assert.Equal("json", parsed.LogFormat);
        Assert.Equal(LogLevel.Warning, parsed.LogLevel);
        foreach (var (name, level) in (ReadOnlySpan<(string, LogLevel)>)[("trace", LogLevel.Trace), ("debug", LogLevel.Debug),
            ("information", LogLevel.Information), ("error", LogLevel.Error), ("critical", LogLevel.Critical), ("none", LogLevel.None)])
        {
            Assert.Equal(level, DaemonCommandLine.Parse(["--log-level", name]).LogLevel);
        }

        Assert.Equal(TimeSpan.FromSeconds(4_294_967), DaemonCommandLine.Parse(["--open-timeout", "4294967"]).Limits.OpenTimeout);
    }

    [Fact]
    public void Parse_WithNoArguments_GivesTheDefaults()
    {
        var parsed = DaemonCommandLine.Parse([], NoDefaultConfig);

        Assert.Equal(Hcs.Host.HostSettings.DefaultSocket, parsed.Settings.Socket);
        Assert.Equal(["qemu", "runc"], parsed.Settings.Backends);
        Assert.Equal("tcg", parsed.Settings.Qemu.Accelerator);
        Assert.Equal(TimeSpan.FromMinutes(4), parsed.Settings.ShutdownTimeout);
        Assert.Equal("text", parsed.LogFormat);
        Assert.Equal(LogLevel.Information, parsed.LogLevel);
        Assert.Equal(new DaemonLimits(), parsed.Limits);
    }

    // A default configuration file that does not exist: the tests never read the host's /etc/hcs/hcsd.conf.
    private static string NoDefaultConfig => Path.Combine(Path.GetTempPath(), "hcs-no-such-dir", "hcsd.conf");

    [Fact]
    public void ConfigFile_SetsOptions_AndTheCommandLineOverridesIt()
    {
        using var file = new TempConfig("""
            # a comment, then a blank line

              socket = /run/hcs-test/a b.sock
            backends=fake
            log-level = warning
            max-queued = 7
            open-timeout = 2.5
            """);

        var fromFile = DaemonCommandLine.Parse(["--config", file.Path], NoDefaultConfig);
        var overridden = DaemonCommandLine.Parse(["--backends", "runc", "--config", file.Path, "--max-queued", "9"], NoDefaultConfig);

        Assert.Equal("/run/hcs-test/a b.sock", fromFile.Settings.Socket);
        Assert.Equal(["fake"], fromFile.Settings.Backends);
        Assert.Equal(LogLevel.Warning, fromFile.LogLevel);
        Assert.Equal(7, fromFile.Limits.MaxQueuedRequests);
        Assert.Equal(TimeSpan.FromSeconds(2.5), fromFile.Limits.OpenTimeout);
        Assert.Equal(["runc"], overridden.Settings.Backends);
        Assert.Equal(9, overridden.Limits.MaxQueuedRequests);
        Assert.Equal("/run/hcs-test/a b.sock", overridden.Settings.Socket);
    }

    [Fact]
    public void DefaultConfigFile_IsReadWhenPresent_AndAnExplicitConfigReplacesIt()
    {
        using var defaults = new TempConfig("backends = fake\nlog-format = json\n");
        using var other = new TempConfig("accelerator = kvm\n");

        var byDefault = DaemonCommandLine.Parse([], defaults.Path);
        var explicitly = DaemonCommandLine.Parse(["--config", other.Path], defaults.Path);

        Assert.Equal(["fake"], byDefault.Settings.Backends);
        Assert.Equal("json", byDefault.LogFormat);
        Assert.Equal(["qemu", "runc"], explicitly.Settings.Backends);
        Assert.Equal("text", explicitly.LogFormat);
        Assert.Equal("kvm", explicitly.Settings.Qemu.Accelerator);
    }

    [Theory]
    [InlineData("socket /run/x.sock", "expected KEY = VALUE, not 'socket /run/x.sock'")]
    [InlineData("no-such-key = 1", "unknown key 'no-such-key'")]
    [InlineData("--socket = /run/x.sock", "unknown key '--socket'")]
    [InlineData("= 1", "unknown key ''")]
    [InlineData("socket =", "socket needs a value")]
    [InlineData("max-queued = lots", "max-queued takes a positive whole number, not 'lots'")]
    [InlineData("backends = qemu,xen", "backends is qemu, runc or fake, not 'xen'")]
    [InlineData("log-level = loud", "log-level is trace, debug, information, warning, error, critical or none, not 'loud'")]
    [InlineData("config = /etc/other.conf", "a configuration file cannot name another")]
    public void ConfigFile_BadLine_IsAUsageErrorNamingTheFileAndLine(string line, string error)
    {
        using var file = new TempConfig($"# line 1\nbackends = fake\n\n{line}\nsocket = /never/read\n");

        var e = Assert.Throws<ArgumentException>(() => DaemonCommandLine.Parse(["--config", file.Path], NoDefaultConfig));

        Assert.Equal($"{file.Path}:4: {error}", e.Message);
    }

    [Fact]
    public void ConfigFile_Missing_IsAnErrorWhenNamed_AndDefaultsWhenItIsTheDefault()
    {
        var e = Assert.Throws<ArgumentException>(() => DaemonCommandLine.Parse(["--config", NoDefaultConfig], NoDefaultConfig));
        var defaults = DaemonCommandLine.Parse([], NoDefaultConfig);

        Assert.StartsWith($"cannot read the configuration file {NoDefaultConfig}: ", e.Message, StringComparison.Ordinal);
        Assert.Equal(["qemu", "runc"], defaults.Settings.Backends);
        Assert.Equal("--config needs a value", Assert.Throws<ArgumentException>(() => DaemonCommandLine.Parse(["--config"], NoDefaultConfig)).Message);
    }

    [Fact]
    public async Task Hcsd_BadConfigLine_IsOneErrorLineAndTheShortUsage_ExitCode2()
    {
        using var file = new TempConfig("backends = fake\nshutdown-timeout = never\n");

        var (code, output, stderr) = await HcsdProcess.RunToExitSeparatelyAsync("--config", file.Path);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Equal([$"hcsd: {file.Path}:2: shutdown-timeout takes a positive number of seconds up to 4294967, not 'never'",
            "usage: hcsd [options]; 'hcsd --help' lists them"], stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>
    /// The shipped contrib/hcsd.conf (the package's /etc/hcs/hcsd.conf) lists every option of <c>hcsd --help</c> as
    /// <c>#KEY = DEFAULT</c> or sets it, and the defaults it shows are hcsd's: uncommenting them all changes nothing.
    /// </summary>
    [Fact]
    public void ShippedConfig_ListsEveryOption_WithItsTrueDefault()
    {
        var shipped = Path.Combine(Repository.Root, "contrib", "hcsd.conf");
        var lines = File.ReadAllLines(shipped);
        var keys = lines.Select(l => System.Text.RegularExpressions.Regex.Match(l, "^#?([a-z][a-z-]*) = "))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();
        using var uncommented = new TempConfig(string.Join('\n', lines.Select(l =>
            System.Text.RegularExpressions.Regex.IsMatch(l, "^#[a-z][a-z-]* = ") ? l[1..] : l)));

        var asShipped = DaemonCommandLine.Parse(["--config", shipped], NoDefaultConfig);
        var withDefaults = DaemonCommandLine.Parse(["--config", uncommented.Path], NoDefaultConfig);

        Assert.Equal(DaemonOptionsInUsage().Except(["config", "help", "version"]).Order(), keys.Order());
        // Records print their members (and nested records'); the backend list prints as its type, so it is compared apart.
        Assert.Equal((asShipped.Settings with { Backends = [] }).ToString(), (withDefaults.Settings with { Backends = [] }).ToString());
        Assert.Equal(asShipped.Settings.Backends, withDefaults.Settings.Backends);
        Assert.Equal(asShipped.Limits, withDefaults.Limits);
        Assert.Equal((asShipped.LogFormat, asShipped.LogLevel), (withDefaults.LogFormat, withDefaults.LogLevel));
        Assert.Equal("hcs", asShipped.Settings.SocketGroup);
    }

    /// <summary>The long options <c>hcsd --help</c> lists, without their dashes.</summary>
    internal static IEnumerable<string> DaemonOptionsInUsage() =>
        System.Text.RegularExpressions.Regex.Matches(DaemonCommandLine.Usage, @"(?m)^\s+(?:-\w, )?--([a-z][a-z-]*)")
            .Select(m => m.Groups[1].Value).Distinct();

    private sealed class TempConfig : IDisposable
    {
        public TempConfig(string text)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"hcsd-{Guid.NewGuid():N}.conf");
            File.WriteAllText(Path, text);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}

/// <summary>The man page hcsd(8) (contrib/man/hcsd.8, installed by the package) documents every option hcsd accepts.</summary>
public sealed class ManPageTests
{
    [Fact]
    public void ManPage_DocumentsEveryOptionOfTheHelp()
    {
        var page = Roff.PlainText(File.ReadAllText(Repository.Path("contrib", "man", "hcsd.8")));
        var options = DaemonCommandLineTests.DaemonOptionsInUsage().ToList();

        Assert.Contains("config", options);
        Assert.All(options, o => Assert.Contains($"--{o} ", page, StringComparison.Ordinal));
        Assert.Contains("-h, --help ", page, StringComparison.Ordinal);
    }
}
