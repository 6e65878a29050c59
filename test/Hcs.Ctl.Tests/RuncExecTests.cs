// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Runc;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>hcsctl against real runc containers on the busybox test layer: exec's stdio, exit code, console, end to end.</summary>
[Trait("Category", "Integration")]
public sealed class RuncExecTests : IAsyncLifetime
{
    private readonly string _runtimeRoot = Path.Combine("/run/hcs-test", "ctl-" + Guid.NewGuid().ToString("N")[..8]);
    private CtlHarness? _ctl;

    private CtlHarness Ctl => _ctl ?? throw new InvalidOperationException("not initialised");

    public ValueTask InitializeAsync()
    {
        Requires.Containers();
        var engine = new ComputeEngine(
            [new RuncBackend(new RuncSettings { RuntimeRoot = _runtimeRoot, CgroupParent = "hcs-test" })],
            new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(3) });
        _ctl = new CtlHarness(engine);

        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_ctl is not null)
        {
            await _ctl.DisposeAsync();
        }

        if (Directory.Exists(_runtimeRoot))
        {
            Directory.Delete(_runtimeRoot, recursive: true);
        }
    }

    private async Task<string> RunningContainerAsync()
    {
        var id = "ctl-" + Guid.NewGuid().ToString("N")[..8];
        var document = HcsJson.Serialize(new Schema.ComputeSystem
        {
            Owner = "hcsctl-tests",
            SchemaVersion = new Schema.Version { Major = 2, Minor = 1 },
            Container = new Container { Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] } },
        });
        var created = await Ctl.RunWithInputAsync(document, "create", id, "-", "--start");
        Assert.True(created.ExitCode == 0, created.ToString());
        return id;
    }

    [Fact]
    public async Task Exec_InARealContainer_CopiesStdoutAndStderr_AppliesEnvCwdUser_AndExitsWithTheProcessCode()
    {
        var id = await RunningContainerAsync();
        var result = await Ctl.RunAsync("exec", "-e", "GREETING=hello", "--cwd", "/tmp", "-u", "1000", id,
            "sh", "-c", "echo $GREETING from $(pwd) as $(id -u); echo oops >&2; exit 7");
        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Equal("hello from /tmp as 1000\n", result.Out);
        Assert.Equal("oops\n", result.Error);

        var ok = await Ctl.RunAsync("exec", id, "true");
        Assert.Equal(0, ok.ExitCode);
        var missing = await Ctl.RunAsync("exec", id, "/no/such/program");
        Assert.NotEqual(0, missing.ExitCode);

        Assert.Equal("", await Ctl.OkAsync("rm", "--force", id));
        Assert.Equal("", await Ctl.OkAsync("list", "-q"));
    }

    [Fact]
    public async Task Exec_InARealContainer_ForwardsStdin_AndGivesAConsoleOfTheTerminalsSize()
    {
        var id = await RunningContainerAsync();
        var cat = await Ctl.RunWithInputAsync("line one\nline two\n", "exec", "-i", id, "sh", "-c", "cat; exit 5");
        Assert.True(cat.ExitCode == 5, cat.ToString());
        Assert.Equal("line one\nline two\n", cat.Out);

        Ctl.Terminal = new FakeTerminal { Size = (33, 101), ErrorIsTerminal = false };
        var tty = await Ctl.RunAsync("exec", "-t", id, "sh", "-c", "stty size; test -t 0 && echo tty; exit 9");
        Assert.True(tty.ExitCode == 9, tty.ToString());
        Assert.Equal("33 101\r\ntty\r\n", tty.Out);
        Assert.Equal("", tty.Error);

        Ctl.Terminal = null;
        await Ctl.OkAsync("rm", "-f", id);
    }
}
