// Copyright (c) hcs contributors. Licensed under the MIT licence.

using EventCallbackSample;
using Hcs.Client;

namespace Hcs.Daemon.Tests;

/// <summary>The seed sample (shared/seed/event-callback-sample.txt) through hcsd's socket instead of an embedded engine.</summary>
public sealed class SeedOverHcsdTests
{
    [Fact]
    public async Task SeedSample_OverHcsd_RegistersTheCallback_AndAGuestPanicDeliversTheCrashEventsInOrder()
    {
        await using var fixture = new DaemonFakeFixture();
        var client = fixture.Connect("EventCallbackSample");
        using var scope = HcsClient.Use(client);
        var id = fixture.NewId("Test");
        var events = new List<HcsEvent>();
        var exited = new ManualResetEventSlim();
        var assertions = new List<string>();

        using var system = Sample.Run(id, Sample.c_EmptyVM, e =>
        {
            lock (events)
            {
                events.Add(e);
            }

            if (e.Type == HcsEventType.SystemExited)
            {
                exited.Set();
            }
        }, assertions);
        using (var op = HcsCreateOperation(null, null))
        {
            HcsException.ThrowIfFailed(HcsStartComputeSystem(system, op, null));
            HcsException.ThrowIfFailed(HcsWaitForOperationResult(op, 10_000, out _));
        }

        fixture.Backend.Get(id).Panic("Kernel panic - not syncing: seed over hcsd");

        Assert.True(exited.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken), "SystemExited arrives");
        lock (events)
        {
            Assert.Equal([HcsEventType.SystemCrashInitiated, HcsEventType.SystemCrashReport, HcsEventType.SystemExited], events.Select(e => e.Type));
            Assert.Equal(NotificationType.UnexpectedExit, HcsJson.Deserialize<SystemExitStatus>(events[2].EventData!).ExitType);
        }

        lock (assertions)
        {
            Assert.Empty(assertions);
        }
    }
}

/// <summary>The demo of samples/EventCallbackSample, end to end on real VMs, through a real hcsd process.</summary>
[Collection(nameof(RealBackendCollection))]
public sealed class DemoOverHcsdTests
{
    [Fact]
    public async Task DemoProgram_WithSocket_RunsTheSeedScenarioThroughHcsd_OnRealVms()
    {
        Requires.Qemu();
        Requires.Ovmf();
        var guest = GuestImage.Directory; // built by ./build.sh
        Environment.SetEnvironmentVariable("HCS_GUEST_DIR", guest);
        await using var hcsd = await HcsdProcess.StartAsync(null, "--backends", "qemu", "--shutdown-timeout", "5");
        var entry = typeof(Sample).Assembly.EntryPoint!;
        var output = new StringWriter();
        var original = Console.Out;
        object? returned;
        Console.SetOut(output);
        try
        {
            returned = entry.Invoke(null, [new[] { "--socket", hcsd.Socket }]);
            if (returned is Task<int> running)
            {
                returned = await running;
            }
        }
        finally
        {
            Console.SetOut(original);
        }

        var text = output.ToString();
        Assert.True(returned is 0, $"the demo returned {returned ?? "null"}; output:\n{text}\nhcsd:\n{hcsd.Log}");
        Assert.Contains("service: hcsd at", text, StringComparison.Ordinal);
        Assert.Contains("ShutDown → ERROR_TIMEOUT", text, StringComparison.Ordinal);
        Assert.Contains("Kernel panic - not syncing", text, StringComparison.Ordinal);
        var crash = text.IndexOf("event SystemCrashInitiated", StringComparison.Ordinal);
        var report = text.IndexOf("event SystemCrashReport", StringComparison.Ordinal);
        var exited = text.LastIndexOf("event SystemExited", StringComparison.Ordinal);
        Assert.True(crash > 0 && crash < report && report < exited, $"crash events out of order:\n{text}");
    }
}
