// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.ComponentModel;
using Xunit;

namespace Hcs.Linux.Tests;

public sealed class HostCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Run_PassesArgumentsAsTheyAre_NoShell()
    {
        var result = await HostCommand.RunAsync("/bin/echo", ["a b", "$HOME", ";", "*"], Ct);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a b $HOME ; *\n", result.StandardOutput);
        Assert.Equal("", result.StandardError);
    }

    [Fact]
    public async Task Run_CapturesStandardErrorAndTheExitCode_StandardInputIsEmpty()
    {
        var result = await HostCommand.RunAsync("/bin/sh", ["-c", "cat; echo oops >&2; exit 3"], Ct);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("oops\n", result.StandardError);
        Assert.Equal("oops", result.Message);
    }

    [Fact]
    public async Task Run_KeepsABoundedPrefix_OfOutputLargerThanTheBound_AndStillSeesTheExit()
    {
        var result = await HostCommand.RunAsync("/bin/sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' x; exit 5"], Ct);
        Assert.Equal(5, result.ExitCode);
        Assert.Equal(HostCommand.MaxCapturedChars, result.StandardOutput.Length);
        Assert.All(result.StandardOutput.Take(100), c => Assert.Equal('x', c));
    }

    [Fact]
    public async Task Cancelling_KillsTheTool()
    {
        using var cancel = new CancellationTokenSource();
        var run = HostCommand.RunAsync("/bin/sleep", ["600"], cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact]
    public async Task AMissingTool_CannotStart() =>
        await Assert.ThrowsAsync<Win32Exception>(() => HostCommand.RunAsync("/nonexistent/tool", [], Ct));
}
