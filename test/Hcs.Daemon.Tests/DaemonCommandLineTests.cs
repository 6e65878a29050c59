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
        var parsed = DaemonCommandLine.Parse([]);

        Assert.Equal(Hcs.Host.HostSettings.DefaultSocket, parsed.Settings.Socket);
        Assert.Equal(["qemu", "runc"], parsed.Settings.Backends);
        Assert.Equal("tcg", parsed.Settings.Qemu.Accelerator);
        Assert.Equal(TimeSpan.FromMinutes(4), parsed.Settings.ShutdownTimeout);
        Assert.Equal("text", parsed.LogFormat);
        Assert.Equal(LogLevel.Information, parsed.LogLevel);
        Assert.Equal(new DaemonLimits(), parsed.Limits);
    }
}
