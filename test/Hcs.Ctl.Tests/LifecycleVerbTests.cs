// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Hcs.Backends.Fake;
using Hcs.Schema;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>create, start, shutdown, terminate, pause, resume, save, modify, rm, grant against the fake backend.</summary>
public sealed class LifecycleVerbTests : IAsyncLifetime
{
    private readonly CtlHarness _ctl = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    [Fact]
    public async Task Create_FromAFile_PrintsNothing_AndTheSystemOutlivesTheInvocation()
    {
        var path = _ctl.File("c1.json", CtlHarness.ContainerDocument);
        Assert.Equal("", await _ctl.OkAsync("create", "c1", path));
        Assert.Equal(SystemState.Created, await _ctl.StateAsync("c1"));
    }

    [Fact]
    public async Task Create_FromStandardInput_WithStart_LeavesItRunning()
    {
        var result = await _ctl.RunWithInputAsync(CtlHarness.VmDocument(), "create", "vm1", "-", "--start");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Error);
        Assert.Equal(SystemState.Running, await _ctl.StateAsync("vm1"));
    }

    [Fact]
    public async Task Create_Embedded_WarnsThatTheSystemEndsWithHcsctl()
    {
        var path = _ctl.File("c1.json", CtlHarness.ContainerDocument);
        var result = await _ctl.RunAsync("--embedded", "create", "c1", path);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("hcsctl: create c1: warning: --embedded:", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_OfASystemThatTerminatesOnLastHandleClose_WarnsThatHcsctlExitingEndsIt()
    {
        var path = _ctl.File("c1.json", """{"Owner":"tests","ShouldTerminateOnLastHandleClosed":true,"Container":{"Storage":{"Path":"/scratch"}}}""");
        var result = await _ctl.RunAsync("create", "c1", path, "--start");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("hcsctl: create c1: warning: ShouldTerminateOnLastHandleClosed is set", result.Error, StringComparison.Ordinal);
        Assert.Null(await _ctl.StateAsync("c1")); // hcsctl's handle was the last one
    }

    [Fact]
    public async Task Create_StartWait_RunsUntilTheGuestPowersOff_AndPrintsTheExitStatus()
    {
        var path = _ctl.File("vm.json", CtlHarness.VmDocument("poweroff:50"));
        var output = await _ctl.OkAsync("create", "vm1", path, "--start", "--wait");
        using var status = JsonDocument.Parse(output);
        Assert.Equal("GracefulExit", status.RootElement.GetProperty("ExitType").GetString());
    }

    [Fact]
    public async Task Start_Shutdown_StopTheSystem_WhichThenGoesAway()
    {
        await _ctl.ContainerAsync("c1", start: false);
        await _ctl.OkAsync("start", "c1");
        Assert.Equal(SystemState.Running, await _ctl.StateAsync("c1"));
        await _ctl.OkAsync("shutdown", "c1");
        Assert.Null(await _ctl.StateAsync("c1"));
    }

    [Fact]
    public async Task Terminate_ManyIds_StopsEach_AndReportsTheUnknownOneOnItsOwnLine()
    {
        await _ctl.ContainerAsync("c1");
        await _ctl.ContainerAsync("c2");
        var result = await _ctl.RunAsync("terminate", "c1", "nope", "c2");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("hcsctl: terminate nope: HCS_E_SYSTEM_NOT_FOUND (0x8037010E): A virtual machine or container with the specified identifier does not exist.\n", result.Error);
        Assert.Null(await _ctl.StateAsync("c1"));
        Assert.Null(await _ctl.StateAsync("c2"));
    }

    [Fact]
    public async Task Shutdown_Timeout_FailsWithOperationTimeout_AndForceTerminates()
    {
        _ctl.Fake.Script("vm1", new FakeScript { IgnoreShutdown = true });
        await _ctl.OkAsync("create", "vm1", _ctl.File("vm.json", CtlHarness.VmDocument()), "--start");

        var timedOut = await _ctl.RunAsync("shutdown", "--timeout", "200ms", "vm1");
        Assert.Equal(1, timedOut.ExitCode);
        Assert.StartsWith("hcsctl: shutdown vm1: HCS_E_OPERATION_TIMEOUT (0x80370118): ", timedOut.Error, StringComparison.Ordinal);
        Assert.Single(timedOut.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var forced = await _ctl.RunAsync("shutdown", "-t", "0.2", "--force", "vm1");
        Assert.Equal(0, forced.ExitCode);
        Assert.Equal("hcsctl: shutdown vm1: did not stop within 0.2s: terminated\n", forced.Error);
        Assert.Null(await _ctl.StateAsync("vm1"));
    }

    [Fact]
    public async Task Shutdown_ForceWithoutTimeout_IsAUsageError()
    {
        var result = await _ctl.RunAsync("shutdown", "--force", "vm1");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("hcsctl: shutdown: --force needs --timeout\nUsage: hcsctl shutdown", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pause_Resume_ChangeTheState()
    {
        await _ctl.ContainerAsync("c1");
        await _ctl.OkAsync("pause", "c1");
        Assert.Equal(SystemState.Paused, await _ctl.StateAsync("c1"));
        var again = await _ctl.RunAsync("pause", "c1");
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("hcsctl: pause c1: HCS_E_INVALID_STATE (0x80370105): ", again.Error, StringComparison.Ordinal);
        await _ctl.OkAsync("resume", "c1");
        Assert.Equal(SystemState.Running, await _ctl.StateAsync("c1"));
    }

    [Fact]
    public async Task Save_PausesARunningVm_AndWritesToTheAbsolutePath()
    {
        await _ctl.OkAsync("create", "vm1", _ctl.File("vm.json", CtlHarness.VmDocument()), "--start");
        var target = Path.Combine(_ctl.TempDirectory, "vm1.state");
        await _ctl.OkAsync("save", "vm1", target);
        Assert.Equal(SystemState.Paused, await _ctl.StateAsync("vm1"));
        Assert.Equal(target, _ctl.Fake.Get("vm1").SavedTo);
    }

    [Fact]
    public async Task Modify_AppliesARequestFromStandardInput_AndNamesTheFileOfABadOne()
    {
        await _ctl.OkAsync("create", "vm1", _ctl.File("vm.json", CtlHarness.VmDocument()), "--start");
        var request = """{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Settings":128}""";
        var ok = await _ctl.RunWithInputAsync(request, "modify", "vm1", "-");
        Assert.True(ok.ExitCode == 0, ok.ToString());

        var bad = _ctl.File("bad.json", """{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Bogus":1}""");
        var result = await _ctl.RunAsync("modify", "vm1", bad);
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("hcsctl: modify vm1: HCS_E_INVALID_JSON (0x", result.Error, StringComparison.Ordinal);
        Assert.Contains("Bogus", result.Error, StringComparison.Ordinal);
        Assert.EndsWith($" (in {bad})\n", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rm_RemovesACreatedSystem_RefusesARunningOne_AndForceTerminatesIt()
    {
        await _ctl.ContainerAsync("created", start: false);
        await _ctl.OkAsync("rm", "created");
        Assert.Null(await _ctl.StateAsync("created"));

        await _ctl.ContainerAsync("running");
        var refused = await _ctl.RunAsync("rm", "running");
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("hcsctl: rm running: HCS_E_INVALID_STATE (0x80370105): ", refused.Error, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Error, StringComparison.Ordinal);
        Assert.Equal(SystemState.Running, await _ctl.StateAsync("running"));

        await _ctl.OkAsync("rm", "-f", "running", "never-was");
        Assert.Null(await _ctl.StateAsync("running"));

        var missing = await _ctl.RunAsync("rm", "never-was");
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("hcsctl: rm never-was: HCS_E_SYSTEM_NOT_FOUND", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Grant_TakesAUidOrAUserName()
    {
        await _ctl.ContainerAsync("c1", start: false);
        await _ctl.OkAsync("grant", "c1", "1000");
        await _ctl.OkAsync("grant", "c1", "root");
        var unknown = await _ctl.RunAsync("grant", "c1", "no-such-user-here");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("hcsctl: grant c1: no user 'no-such-user-here' on this host (give a uid instead)\n", unknown.Error);
    }
}
