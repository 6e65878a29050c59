// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Hcs.Client.Tests;

/// <summary>
/// One test's world: a fresh <see cref="ComputeEngine"/> over a fresh <see cref="FakeBackend"/>, a client connected to
/// it, and that client made current (<see cref="HcsClient.Use"/>) for the flat <see cref="ComputeCore"/> functions.
/// The scope is set in the constructor, which runs synchronously in the test's own flow, so it stays in effect for the
/// rest of the test method. Waits are bounded by <see cref="Timeout"/> only as a safety net.
/// </summary>
internal sealed class TestEnv : IAsyncDisposable
{
    /// <summary>Safety-net bound of every blocking wait, in milliseconds.</summary>
    public const uint Timeout = 10_000;

    /// <summary>The same bound as a <see cref="TimeSpan"/>.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(Timeout);

    /// <summary>
    /// A VM whose construction is instant; the fake backend hosts it. ShouldTerminateOnLastHandleClosed is off unless a
    /// test asks for it.
    /// </summary>
    public const string EmptyVm = """
    {
        "SchemaVersion": { "Major": 2, "Minor": 1 },
        "Owner": "ClientTests",
        "VirtualMachine": {
            "Chipset": { "Uefi": {} },
            "ComputeTopology": { "Memory": { "SizeInMB": 256 }, "Processor": { "Count": 1 } }
        }
    }
    """;

    /// <summary><see cref="EmptyVm"/> with ShouldTerminateOnLastHandleClosed.</summary>
    public const string TerminateOnCloseVm = """
    {
        "SchemaVersion": { "Major": 2, "Minor": 1 },
        "Owner": "ClientTests",
        "VirtualMachine": {
            "Chipset": { "Uefi": {} },
            "ComputeTopology": { "Memory": { "SizeInMB": 256 }, "Processor": { "Count": 1 } }
        },
        "ShouldTerminateOnLastHandleClosed": true
    }
    """;

    private readonly IDisposable _scope;
    private readonly DirectoryInfo _temp;

    static TestEnv()
    {
        // The computecore API blocks by contract and tests run in parallel on a small machine: make sure blocked test
        // threads never starve the pool threads that complete operations and run callbacks.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }

    /// <summary>
    /// Creates the engine (optionally on a fake clock) with a crash directory of its own under a temporary directory,
    /// connects, and makes the client current.
    /// </summary>
    public TestEnv(FakeTimeProvider? time = null)
    {
        Time = time;
        Fake = new FakeBackend();
        _temp = Directory.CreateTempSubdirectory("hcs-client-");
        CrashDirectory = Path.Combine(_temp.FullName, "crash");
        Engine = new ComputeEngine([Fake], new EngineOptions { Time = time ?? TimeProvider.System, CrashDirectory = CrashDirectory });
        Client = HcsClient.Connect(Engine, "test");
        _scope = HcsClient.Use(Client);
    }

    public FakeBackend Fake { get; }

    public ComputeEngine Engine { get; }

    public HcsClient Client { get; }

    public FakeTimeProvider? Time { get; }

    /// <summary>Where the engine files crash reports (not created until one is filed).</summary>
    public string CrashDirectory { get; }

    /// <summary>A unique, valid compute system id.</summary>
    public static string NewId(string prefix = "sys") => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Creates <paramref name="id"/> through the flat API and waits until it is constructed.</summary>
    public HcsSystem Create(string id, string configuration = EmptyVm, FakeScript? script = null)
    {
        if (script is not null)
        {
            Fake.Script(id, script);
        }

        using var op = HcsCreateOperation(null, null);
        Ok(HcsCreateComputeSystem(id, configuration, op, null, out var system));
        Ok(HcsWaitForOperationResult(op, Timeout, out var doc), doc);
        Assert.NotNull(system);
        return system;
    }

    /// <summary>Creates and starts <paramref name="id"/>.</summary>
    public HcsSystem CreateRunning(string id, string configuration = EmptyVm, FakeScript? script = null)
    {
        var system = Create(id, configuration, script);
        Run(op => HcsStartComputeSystem(system, op, null));
        return system;
    }

    /// <summary>Binds a fresh operation with <paramref name="call"/>, waits, and returns the (successful) result document.</summary>
    public static string? Run(Func<HcsOperation, int> call)
    {
        var hr = RunRaw(call, out var doc);
        Ok(hr, doc);
        return doc;
    }

    /// <summary>Binds a fresh operation with <paramref name="call"/> and returns the operation's result.</summary>
    public static int RunRaw(Func<HcsOperation, int> call, out string? resultDocument)
    {
        using var op = HcsCreateOperation(null, null);
        var hr = call(op);
        if (hr < 0)
        {
            resultDocument = null;
            return hr;
        }

        return HcsWaitForOperationResult(op, Timeout, out resultDocument);
    }

    /// <summary>The system's properties (basic, plus <paramref name="query"/>).</summary>
    public static Properties GetProperties(HcsSystem system, string? query = null) =>
        HcsJson.Deserialize<Properties>(Run(op => HcsGetComputeSystemProperties(system, op, query))!);

    /// <summary>The system's state as the flat API reports it.</summary>
    public static SystemState? StateOf(HcsSystem system) => GetProperties(system).State;

    /// <summary>Asserts <paramref name="hr"/> is S_OK, showing the result document on failure.</summary>
    public static void Ok(int hr, string? document = null) =>
        Assert.True(hr == HResults.S_OK, $"expected S_OK, got {HResults.NameOf(hr)} (0x{hr:X8}) {document}");

    /// <summary>Asserts <paramref name="actual"/> equals <paramref name="expected"/>, naming both HRESULTs.</summary>
    public static void Hr(int expected, int actual, string? document = null) =>
        Assert.True(expected == actual,
            $"expected {HResults.NameOf(expected)} (0x{expected:X8}), got {HResults.NameOf(actual)} (0x{actual:X8}) {document}");

    /// <summary>Parses a <c>ResultError</c> document.</summary>
    public static ResultError ParseError(string? document)
    {
        Assert.False(string.IsNullOrEmpty(document), "expected a ResultError document");
        return HcsJson.Deserialize<ResultError>(document);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (bounded); asserts it did.</summary>
    public static void Eventually(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, Bound), $"timed out waiting for: {what}");

    /// <summary>Advances the fake clock until <paramref name="operation"/> is no longer pending (bounded).</summary>
    public void AdvanceUntilDone(HcsOperation operation)
    {
        Assert.NotNull(Time);
        Eventually(() =>
        {
            if (HcsGetOperationResult(operation, out _) != HResults.HCS_E_OPERATION_PENDING)
            {
                return true;
            }

            Time.Advance(TimeSpan.FromMinutes(1));
            return false;
        }, "the operation to complete on the fake clock");
    }

    /// <summary>True when <paramref name="json"/> is a JSON array.</summary>
    public static bool IsJsonArray(string? json)
    {
        if (json is null)
        {
            return false;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Array;
    }

    public async ValueTask DisposeAsync()
    {
        _scope.Dispose();
        await Client.DisposeAsync();
        await Engine.DisposeAsync();
        _temp.Delete(recursive: true);
    }
}

/// <summary>Collects a handle's events, thread-safely, and lets a test wait for one.</summary>
internal sealed class EventLog
{
    private readonly Lock _gate = new();
    private readonly List<HcsEvent> _events = [];
    private readonly List<int> _threads = [];

    /// <summary>The callback to register; <paramref name="extra"/> runs after the event is recorded.</summary>
    public HcsEventCallback Callback(Action<HcsEvent>? extra = null) => (ev, _) =>
    {
        Record(ev);
        extra?.Invoke(ev);
    };

    public void Record(HcsEvent ev)
    {
        lock (_gate)
        {
            _events.Add(ev);
            _threads.Add(Environment.CurrentManagedThreadId);
        }
    }

    public IReadOnlyList<HcsEvent> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<int> Threads
    {
        get
        {
            lock (_gate)
            {
                return [.. _threads];
            }
        }
    }

    public IReadOnlyList<HcsEventType> Types => [.. Events.Select(e => e.Type)];

    public int Count(HcsEventType type) => Events.Count(e => e.Type == type);

    /// <summary>Waits (bounded) until an event of <paramref name="type"/> has been recorded and returns the first.</summary>
    public HcsEvent WaitFor(HcsEventType type)
    {
        TestEnv.Eventually(() => Count(type) > 0, $"event {type}; seen so far: [{string.Join(", ", Types)}]");
        return Events.First(e => e.Type == type);
    }
}
