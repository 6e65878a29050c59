// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>exec on the fake backend's mini shell: stdio, exit codes, consoles, failures.</summary>
public abstract class ExecVerbCases(CtlTransport transport) : IAsyncLifetime
{
    private CtlHarness _ctl = null!;

    public async ValueTask InitializeAsync()
    {
        _ctl = await CtlHarness.StartAsync(transport);
        await _ctl.ContainerAsync("c1");
    }

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    [Fact]
    public async Task Exec_CopiesStdoutAndStderr_AndExitsWithTheProcessExitCode()
    {
        var result = await _ctl.RunAsync("exec", "c1", "sh", "-c", "echo out; echo err >&2; exit 3");
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out\n", result.Out);
        Assert.Equal("err\n", result.Error);
    }

    [Fact]
    public async Task Exec_Success_IsExitCodeZero_AndFalseIsOne()
    {
        Assert.Equal(0, (await _ctl.RunAsync("exec", "c1", "--", "true")).ExitCode);
        Assert.Equal(1, (await _ctl.RunAsync("exec", "c1", "false")).ExitCode);
    }

    [Fact]
    public async Task Exec_Interactive_ForwardsStandardInput_UntilEndOfFile()
    {
        var result = await _ctl.RunWithInputAsync("hello\nworld\n", "exec", "-i", "c1", "cat");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("hello\nworld\n", result.Out);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task Exec_WithoutInteractive_GivesTheProcessNoInput()
    {
        // `cat` with no stdin pipe reads end of file at once.
        var result = await _ctl.RunWithInputAsync("ignored\n", "exec", "c1", "cat");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Exec_Tty_AllocatesAConsoleOfTheTerminalsSize_RawModeAndResize()
    {
        _ctl.SkipUnlessInProcess("be given a fake terminal");
        var terminal = new FakeTerminal { Size = (33, 101) };
        _ctl.Terminal = terminal;
        var run = _ctl.RunWithInputAsync("", "exec", "-ti", "c1", "sh", "-c", "echo on the console; sleep 0.3; exit 4");
        var process = await WaitForProcessAsync();
        Assert.Equal(((ushort)33, (ushort)101), process.ConsoleSize);
        terminal.Size = (50, 132);
        terminal.Resize?.Invoke();
        var result = await run;
        Assert.Equal(4, result.ExitCode);
        Assert.Equal("on the console\n", result.Out);
        Assert.Equal((1, 1), (terminal.RawModeEntered, terminal.RawModeLeft));
        Assert.Equal(((ushort)50, (ushort)132), process.ConsoleSize);
        Assert.Null(terminal.Resize);
    }

    private async Task<Backends.Fake.FakeProcess> WaitForProcessAsync()
    {
        for (var i = 0; i < 500; i++)
        {
            if (_ctl.Fake.Get("c1").Processes is [var process, ..])
            {
                return process;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("no process appeared");
    }

    [Fact]
    public async Task Exec_InASystemThatIsNotRunning_Is125_WithTheHResult()
    {
        await _ctl.ContainerAsync("created", start: false);
        var result = await _ctl.RunAsync("exec", "created", "true");
        Assert.Equal(125, result.ExitCode);
        Assert.StartsWith("hcsctl: exec created: HCS_E_", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var missing = await _ctl.RunAsync("exec", "nope", "true");
        Assert.Equal(125, missing.ExitCode);
        Assert.StartsWith("hcsctl: exec nope: HCS_E_SYSTEM_NOT_FOUND (0x8037010E): ", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_SystemTerminatedUnderIt_Is125()
    {
        var run = _ctl.RunAsync("exec", "c1", "sleep", "30");
        await WaitForProcessAsync();
        await _ctl.OkAsync("terminate", "c1");
        var result = await run;
        Assert.Equal(125, result.ExitCode);
        Assert.StartsWith("hcsctl: exec c1: HCS_E_", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_OptionsAfterTheCommand_BelongToTheCommand()
    {
        var result = await _ctl.RunAsync("exec", "c1", "echo", "-i", "--json");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("-i --json\n", result.Out);
    }

    [Fact]
    public async Task Exec_Usage_NeedsACommand_AndKeyValueEnvironment()
    {
        var missing = await _ctl.RunAsync("exec", "c1");
        Assert.Equal(2, missing.ExitCode);
        Assert.StartsWith("hcsctl: exec: missing the command to run\nUsage: hcsctl exec", missing.Error, StringComparison.Ordinal);
        var env = await _ctl.RunAsync("exec", "-e", "NOEQUALS", "c1", "true");
        Assert.Equal(2, env.ExitCode);
        Assert.StartsWith("hcsctl: exec: --env: 'NOEQUALS' is not K=V", env.Error, StringComparison.Ordinal);
    }
}

/// <summary>The exec cases, with hcsctl and the engine in one process.</summary>
public sealed class ExecVerbTests() : ExecVerbCases(CtlTransport.InProcess);

/// <summary>The exec cases, with hcsctl reaching the engine through hcsd's socket.</summary>
public sealed class ExecVerbOverHcsdTests() : ExecVerbCases(CtlTransport.Hcsd);

/// <summary>The exec cases, run by the shipped native hcsctl through hcsd's socket.</summary>
public sealed class ExecVerbOverNativeHcsctlTests() : ExecVerbCases(CtlTransport.NativeProcess);
