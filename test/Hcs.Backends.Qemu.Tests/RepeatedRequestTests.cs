// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The repetition of the power button and the NMI (<see cref="RepeatedRequest"/>), on a fake clock, against a scripted QMP server.</summary>
public sealed class RepeatedRequestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Repeats_1_3_7_15_ThenEvery8sUpTo55s_ThenStops()
    {
        var script = new QmpScript();
        for (var i = 0; i < 9; i++)
        {
            script.Command("system_powerdown");
        }

        var time = new TimerWatchingTime();
        var sent = new List<TimeSpan>();
        var start = time.GetUtcNow();
        var server = script.End().Server(c =>
        {
            if (c["execute"]!.GetValue<string>() == "system_powerdown")
            {
                lock (sent)
                {
                    sent.Add(time.GetUtcNow() - start);
                }
            }

            return Task.CompletedTask;
        });
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var repeat = new RepeatedRequest(qmp, time, CancellationToken.None);

        var repeating = repeat.RepeatAsync("system_powerdown");
        for (var i = 0; i < 9; i++)
        {
            await time.WaitForTimerAsync(Ct);
            time.Advance(time.DueTimes[^1]);
        }

        await repeating.WaitAsync(Ct);
        await serving.WaitAsync(Ct);
        Assert.Equal([1, 2, 4, 8, 8, 8, 8, 8, 8], time.DueTimes.Select(d => d.TotalSeconds));
        Assert.Equal([1, 3, 7, 15, 23, 31, 39, 47, 55], sent.Select(t => t.TotalSeconds));
        Assert.Equal(10, server.Received.Count); // qmp_capabilities and nine presses, none after 55 s
    }

    [Fact]
    public async Task Stop_TheGuestAnswered_EndsTheRepetitionBeforeTheNextPress()
    {
        var server = new QmpScript().Command("inject-nmi").End().Server();
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var time = new TimerWatchingTime();
        var repeat = new RepeatedRequest(qmp, time, CancellationToken.None);

        var repeating = repeat.RepeatAsync("inject-nmi");
        await time.WaitForTimerAsync(Ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await time.WaitForTimerAsync(Ct); // pressed once, waiting 2 s for the next
        repeat.Stop();
        await repeating.WaitAsync(Ct);
        time.Advance(TimeSpan.FromMinutes(1));
        await serving.WaitAsync(Ct);
        Assert.Equal(["qmp_capabilities", "inject-nmi"], server.Received.Select(c => c["execute"]!.GetValue<string>()));
    }

    [Fact]
    public async Task ANewRequest_ReplacesTheRepetition_AndQemuEnding_EndsIt()
    {
        var server = new QmpScript().End().Server();
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var time = new TimerWatchingTime();
        using var ended = new CancellationTokenSource();
        var repeat = new RepeatedRequest(qmp, time, ended.Token);

        var first = repeat.RepeatAsync("system_powerdown");
        await time.WaitForTimerAsync(Ct);
        var second = repeat.RepeatAsync("inject-nmi");
        await first.WaitAsync(Ct); // replaced before its first repetition
        await time.WaitForTimerAsync(Ct);
        await ended.CancelAsync();
        await second.WaitAsync(Ct);
        await serving.WaitAsync(Ct);
        Assert.Single(server.Received); // qmp_capabilities only: nothing was repeated
    }

    [Fact]
    public async Task QemuRefusingTheRepeat_EndsTheRepetition()
    {
        var server = new QmpScript().Error("system_powerdown", null, "GenericError", "no ACPI").End().Server();
        var serving = server.RunAsync(Ct);
        await using var qmp = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var time = new TimerWatchingTime();
        var repeat = new RepeatedRequest(qmp, time, CancellationToken.None);

        var repeating = repeat.RepeatAsync("system_powerdown");
        await time.WaitForTimerAsync(Ct);
        time.Advance(TimeSpan.FromSeconds(1));
        await repeating.WaitAsync(Ct);
        await serving.WaitAsync(Ct);
        Assert.Single(time.DueTimes);
    }
}
