// Copyright (c) hcs contributors. Licensed under the MIT licence.

using EventCallbackSample;

namespace Hcs.Client.Tests;

/// <summary>The seed sample (shared/seed/event-callback-sample.txt) as transcribed in samples/EventCallbackSample.</summary>
public sealed class EventCallbackSampleTests
{
    [Fact]
    public async Task SeedSample_RegistersTheCallback_AndAGuestPanicDeliversTheCrashEventsInOrder()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId("Test");
        var log = new EventLog();
        var assertions = new List<string>();

        using var system = Sample.Run(id, Sample.c_EmptyVM, log.Record, assertions);

        Assert.NotNull(system);
        Assert.Equal(id, system.Id);
        TestEnv.Hr(HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
            HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (_, _) => { })); // the sample's callback is set
        Assert.Equal(SystemState.Created, TestEnv.StateOf(system));

        TestEnv.Run(op => HcsStartComputeSystem(system, op, null));
        env.Fake.Get(id).Panic("Kernel panic - not syncing: test");

        log.WaitFor(HcsEventType.SystemExited);
        using var settle = new ManualResetEventSlim();
        settle.Wait(50, TestContext.Current.CancellationToken);
        Assert.Equal([HcsEventType.SystemCrashInitiated, HcsEventType.SystemCrashReport, HcsEventType.SystemExited], log.Types);
        Assert.All(log.Events, ev => Assert.NotNull(ev.EventData));
        var exit = HcsJson.Deserialize<SystemExitStatus>(log.Events[2].EventData!);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        var report = HcsJson.Deserialize<CrashReport>(log.Events[1].EventData!);
        Assert.Equal(id, report.SystemId);
        lock (assertions)
        {
            Assert.Empty(assertions);
        }
    }

    [Fact]
    public async Task SeedSample_SetsShouldTerminateOnLastHandleClosed_SoClosingItsHandleEndsTheSystem()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId("Test");
        var assertions = new List<string>();
        var system = Sample.Run(id, Sample.c_EmptyVM, _ => { }, assertions);
        TestEnv.Run(op => HcsStartComputeSystem(system, op, null));
        var fake = env.Fake.Get(id);

        HcsCloseComputeSystem(system);

        TestEnv.Eventually(() => fake.IsDead, "the sample's system to be terminated with its last handle");
        TestEnv.Eventually(() => HcsOpenComputeSystem(id, GENERIC_ALL, out _) == HResults.HCS_E_SYSTEM_NOT_FOUND, "the system to be gone");
        Assert.Empty(assertions);
    }

    [Fact]
    public async Task SeedSample_WithAnInvalidDocument_ThrowsTheCreateError()
    {
        await using var env = new TestEnv();

        var error = Assert.Throws<HcsException>(() => Sample.Run(TestEnv.NewId(), """{"VirtualMachine":{"Chipset":7}}""", _ => { }, []));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, error.HResult);
    }
}

/// <summary>Tests that swap process-wide console writers; they must not run beside anything else.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>The demo Program of samples/EventCallbackSample, run end to end through its entry point.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class EventCallbackDemoTests
{
    [Fact]
    [Trait("Tier", "Vm")]
    public async Task DemoProgram_RunsEndToEnd_OnQemu_WithRealVms()
    {
        Requires.Qemu();
        Requires.Ovmf();
        Environment.SetEnvironmentVariable("HCS_GUEST_DIR", GuestImage.Directory);
        var (returned, text) = await RunDemoAsync("qemu");
        Assert.True(returned is 0, $"the demo returned {returned ?? "null"}; output:\n{text}");
        Assert.Contains("backend: QEMU", text, StringComparison.Ordinal);
        Assert.Contains("ShutDown → ERROR_TIMEOUT", text, StringComparison.Ordinal);
        Assert.Contains("\"ExitType\":\"ForcedExit\"", text, StringComparison.Ordinal);
        Assert.Contains("Kernel panic - not syncing", text, StringComparison.Ordinal);
        var crash = text.IndexOf("event SystemCrashInitiated", StringComparison.Ordinal);
        var report = text.IndexOf("event SystemCrashReport", StringComparison.Ordinal);
        var exited = text.LastIndexOf("event SystemExited", StringComparison.Ordinal);
        Assert.True(crash > 0 && crash < report && report < exited, $"crash events out of order:\n{text}");
    }

    private static async Task<(object? Returned, string Text)> RunDemoAsync(string backend)
    {
        var entry = typeof(Sample).Assembly.EntryPoint!;
        var output = new StringWriter();
        var original = Console.Out;
        object? returned;
        Console.SetOut(output);
        try
        {
            returned = entry.Invoke(null, [new[] { "--backend", backend }]);
            if (returned is Task<int> running)
            {
                returned = await running;
            }
        }
        finally
        {
            Console.SetOut(original);
        }

        return (returned, output.ToString());
    }

    [Fact]
    public async Task DemoProgram_RunsEndToEnd_OnTheFakeBackend_AndExitsZero()
    {
        var (returned, text) = await RunDemoAsync("fake");
        Assert.True(returned is 0, $"the demo returned {returned ?? "null"}; output:\n{text}");
        Assert.Contains("FAKE", text, StringComparison.Ordinal);
        Assert.Contains("event SystemCrashInitiated", text, StringComparison.Ordinal);
        Assert.Contains("event SystemCrashReport", text, StringComparison.Ordinal);
        Assert.Contains("event SystemExited", text, StringComparison.Ordinal);
        Assert.Contains("demo: OK", text, StringComparison.Ordinal);
        var crash = text.IndexOf("event SystemCrashInitiated", StringComparison.Ordinal);
        var report = text.IndexOf("event SystemCrashReport", StringComparison.Ordinal);
        var exited = text.LastIndexOf("event SystemExited", StringComparison.Ordinal);
        Assert.True(crash < report && report < exited, $"crash events out of order:\n{text}");
        Assert.Equal(2, text.Split("event SystemExited").Length - 1); // one per system of the demo
    }
}
