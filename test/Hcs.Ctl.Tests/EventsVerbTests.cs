// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>events: filtering by system, ending when the watched systems exit, --follow, --json.</summary>
public abstract class EventsVerbCases(CtlTransport transport) : IAsyncLifetime
{
    private CtlHarness _ctl = null!;

    public async ValueTask InitializeAsync()
    {
        _ctl = await CtlHarness.StartAsync(transport);
    }

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    /// <summary>Starts `hcsctl events ARGS` and returns once it has subscribed to <paramref name="waitFor"/>.</summary>
    private async Task<Task<CtlResult>> StartEventsAsync(string[] waitFor, params string[] args)
    {
        var subscribed = new HashSet<string>(StringComparer.Ordinal);
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSubscribed(string id)
        {
            lock (subscribed)
            {
                subscribed.Add(id);
                if (waitFor.All(subscribed.Contains))
                {
                    all.TrySetResult();
                }
            }
        }

        var run = _ctl.RunAsync("", OnSubscribed, args);
        await Task.WhenAny(all.Task, run).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(run.IsCompleted, run.IsCompleted ? (await run).ToString() : "");
        return run;
    }

    [Fact]
    public async Task Events_ForNamedSystems_PrintsOnlyTheirs_AndEndsWhenTheyHaveExited()
    {
        await _ctl.ContainerAsync("c1");
        await _ctl.ContainerAsync("c2");
        var run = await StartEventsAsync(["c1"], "events", "c1");
        await _ctl.OkAsync("terminate", "c2");
        await _ctl.OkAsync("terminate", "c1");
        var result = await run;
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Error);
        var line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  c1  SystemExited  \{.*""ExitType"":""ForcedExit"".*\}$", line);
    }

    [Fact]
    public async Task Events_WithoutIds_WatchesEveryLiveSystem()
    {
        await _ctl.ContainerAsync("c1");
        await _ctl.ContainerAsync("c2", start: false);
        var run = await StartEventsAsync(["c1", "c2"], "events");
        await _ctl.OkAsync("terminate", "c1", "c2");
        var result = await run;
        Assert.Equal(0, result.ExitCode);
        var ids = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split("  ")[1]).Order(StringComparer.Ordinal);
        Assert.Equal(["c1", "c2"], ids);
    }

    [Fact]
    public async Task Events_Follow_PicksUpSystemsCreatedLater_AndJsonIsOneObjectPerLine()
    {
        var found = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var run = _ctl.RunAsync("", id => found.TrySetResult(), ["events", "--follow", "--json", "--timeout", "5s", "later"]);
        await _ctl.ContainerAsync("later");
        await _ctl.ContainerAsync("other");
        await found.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the follower polls for it
        await _ctl.OkAsync("terminate", "other", "later");
        var result = await run;
        Assert.Equal(0, result.ExitCode);
        var line = Assert.Single(result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("later", json.RootElement.GetProperty("SystemId").GetString());
        Assert.Equal("SystemExited", json.RootElement.GetProperty("Type").GetString());
        Assert.Equal("ForcedExit", json.RootElement.GetProperty("EventData").GetProperty("ExitType").GetString());
        Assert.True(json.RootElement.TryGetProperty("Time", out _));
    }

    [Fact]
    public async Task Events_ServiceGoingAway_IsPrinted_AndExitCode3()
    {
        _ctl.SkipUnlessInProcess("say when it has subscribed, which this case must know before stopping the service");
        await _ctl.ContainerAsync("c1");
        var run = await StartEventsAsync(["c1"], "events", "--follow", "c1");
        await _ctl.StopServiceAsync();
        var result = await run;
        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("  c1  ServiceDisconnect", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_ForAnUnknownSystem_IsNotFound()
    {
        var result = await _ctl.RunAsync("events", "nope");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("hcsctl: events nope: HCS_E_SYSTEM_NOT_FOUND (0x8037010E): ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Events_Timeout_EndsAWatchOfASystemThatKeepsRunning()
    {
        await _ctl.ContainerAsync("c1");
        var result = await _ctl.RunAsync("events", "--timeout", "200ms", "c1");
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Out);
    }
}

/// <summary>The events cases, with hcsctl and the engine in one process.</summary>
public sealed class EventsVerbTests() : EventsVerbCases(CtlTransport.InProcess);

/// <summary>The events cases, with hcsctl reaching the engine through hcsd's socket.</summary>
public sealed class EventsVerbOverHcsdTests() : EventsVerbCases(CtlTransport.Hcsd);

/// <summary>The events cases, run by the shipped native hcsctl through hcsd's socket.</summary>
public sealed class EventsVerbOverNativeHcsctlTests() : EventsVerbCases(CtlTransport.NativeProcess);
