// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Engine.Tests;

/// <summary>The process API surface (HcsCreateProcess family) on the fake backend's mini-shell processes.</summary>
public sealed class ProcessApiTests : IAsyncLifetime
{
    private readonly FakeBackend _fake = new();
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([_fake]);
        _client = HcsClient.Connect(_engine, "process-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
    }

    private async Task<Client.ComputeSystem> RunningAsync(string id)
    {
        var system = await Client.ComputeSystem.CreateAsync(_client, id, new SchemaComputeSystem
        {
            Owner = "tests",
            Container = new Container { Storage = new Storage { Path = "/scratch" } },
        });
        await system.StartAsync();
        return system;
    }

    private static ProcessParameters Sh(string script, bool stdin = false) => new()
    {
        CommandArgs = ["sh", "-c", script],
        CreateStdInPipe = stdin,
        CreateStdOutPipe = true,
        CreateStdErrPipe = true,
    };

    [Fact]
    public async Task ConsoleSize_IsAppliedToAConsoleProcess_AndRefusedWithoutOne()
    {
        await using var system = await RunningAsync("p9");
        await using var console = await system.CreateProcessAsync(new ProcessParameters
        {
            CommandLine = "sleep 30",
            EmulateConsole = true,
            CreateStdOutPipe = true,
            ConsoleSize = [24, 80],
        });
        await console.ResizeConsoleAsync(50, 132);
        var fake = _fake.Get("p9").Processes.Single(p => p.ProcessId == console.ProcessId);
        Assert.Equal(((ushort)50, (ushort)132), fake.ConsoleSize);

        await using var plain = await system.CreateProcessAsync(Sh("sleep 30"));
        var e = await Assert.ThrowsAsync<HcsException>(() => plain.ResizeConsoleAsync(50, 132));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        await console.KillAsync();
        await plain.KillAsync();
    }

}
