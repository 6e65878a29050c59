// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>
/// The two shipped executables together, as an operator runs them: the native hcsctl (<see cref="HcsctlProcess"/>)
/// against the native hcsd (<see cref="HcsdProcess"/>, fake backend), every call a process, as the Debian package
/// installs them. The verb suites run the native hcsctl in depth (the <c>*OverNativeHcsctlTests</c> classes).
/// </summary>
public sealed class NativeBinariesTests : IAsyncLifetime
{
    private HcsdProcess _hcsd = null!;
    private string _directory = null!;

    public async ValueTask InitializeAsync()
    {
        _ = NativeBinaries.Hcsctl; // skips (or fails) first when it is missing
        _hcsd = await HcsdProcess.StartAsync();
        _directory = Directory.CreateTempSubdirectory("hcsctl-native-").FullName;
    }

    public async ValueTask DisposeAsync()
    {
        if (_hcsd is not null)
        {
            await _hcsd.DisposeAsync();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private Task<CtlResult> RunAsync(params string[] args) => HcsctlProcess.RunAsync(["--socket", _hcsd.Socket, .. args]);

    private async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, $"hcsctl {string.Join(' ', args)}: {result}");
        return result.Out;
    }

    [Fact]
    public async Task Version_IsTheOneVersion()
    {
        var result = await HcsctlProcess.RunAsync(["--version"]);
        Assert.True(result.ExitCode == 0 && result.Error.Length == 0, result.ToString());
        Assert.StartsWith($"hcsctl {File.ReadAllText(Repository.Path("VERSION")).Trim()}", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Start_List_Inspect_Exec_Terminate_Events_ThroughTheNativeHcsd()
    {
        var document = Path.Combine(_directory, "c1.json");
        await File.WriteAllTextAsync(document, CtlHarness.ContainerDocument);
        Assert.Equal("", await OkAsync("create", "c1", document));
        Assert.Equal("", await OkAsync("start", "c1"));
        var vm = await HcsctlProcess.RunAsync(["--socket", _hcsd.Socket, "create", "vm1", "-", "--start"], CtlHarness.VmDocument());
        Assert.True(vm.ExitCode == 0 && vm.Error.Length == 0, vm.ToString());

        using (var list = JsonDocument.Parse(await OkAsync("list", "--json")))
        {
            Assert.Equal(["c1 Running Container", "vm1 Running VirtualMachine"], list.RootElement.EnumerateArray()
                .Select(s => $"{s.GetProperty("Id").GetString()} {s.GetProperty("State").GetString()} {s.GetProperty("SystemType").GetString()}")
                .Order(StringComparer.Ordinal));
        }

        using (var inspect = JsonDocument.Parse(await OkAsync("inspect", "vm1", "--type", "Statistics")))
        {
            Assert.Equal("Running", inspect.RootElement.GetProperty("State").GetString());
            Assert.True(inspect.RootElement.GetProperty("Statistics").GetProperty("Uptime100ns").GetUInt64() > 0);
        }

        using (var service = JsonDocument.Parse(await OkAsync("service")))
        {
            Assert.Equal(2, service.RootElement.GetProperty("Properties")[0].GetProperty("SupportedSchemaVersions")[0].GetProperty("Major").GetInt32());
        }

        var exec = await RunAsync("exec", "c1", "sh", "-c", "echo out; echo err >&2; exit 7");
        Assert.True(exec.ExitCode == 7, exec.ToString());
        Assert.Equal(("out\n", "err\n"), (exec.Out, exec.Error));
        var piped = await HcsctlProcess.RunAsync(["--socket", _hcsd.Socket, "exec", "-i", "c1", "cat"], "through two native processes\n");
        Assert.True(piped.ExitCode == 0, piped.ToString());
        Assert.Equal("through two native processes\n", piped.Out);

        // A handle held here keeps c1 listed once it has stopped; events on a stopped system reports its exit at once.
        await using var client = Client.HcsClient.Connect(new Client.HcsConnectOptions { Socket = _hcsd.Socket, Mode = Client.HcsServiceMode.Daemon });
        await using var held = await Client.ComputeSystem.OpenAsync(client, "c1");
        Assert.Equal("", await OkAsync("terminate", "c1", "vm1"));
        var events = await RunAsync("events", "--timeout", "30s", "c1");
        Assert.True(events.ExitCode == 0 && events.Error.Length == 0, events.ToString());
        Assert.Matches(@"^\S+  c1  SystemExited  \{.*""ExitType"":""ForcedExit"".*\}\n$", events.Out);
    }

    [Fact]
    public async Task UsageError_IsExitCode2_AndNoDaemon_IsExitCode3()
    {
        var usage = await RunAsync("start");
        Assert.Equal(2, usage.ExitCode);
        Assert.Equal("hcsctl: start: missing ID\nUsage: hcsctl start ID...\nRun 'hcsctl start --help' for more.\n", usage.Error);

        var missing = Path.Combine(_directory, "no-such.sock");
        var none = await HcsctlProcess.RunAsync(["--socket", missing, "list"]);
        Assert.True(none.ExitCode == 3, none.ToString());
        Assert.StartsWith("hcsctl: list: HCS_E_SERVICE_DISCONNECT (0x8037011E): ", none.Error, StringComparison.Ordinal);
        Assert.Contains(missing, none.Error, StringComparison.Ordinal);
    }
}
