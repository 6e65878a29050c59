// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>How a system is brought into a state for a test.</summary>
public enum Prepared
{
    /// <summary>Created, never started.</summary>
    Created,
    /// <summary>Started.</summary>
    Running,
    /// <summary>Started, then paused.</summary>
    Paused,
    /// <summary>Started, then terminated (ForcedExit); the handle stays open.</summary>
    Stopped,
    /// <summary>Started, then the guest powered off by itself (GracefulExit); the handle stays open.</summary>
    StoppedByGuest,
    /// <summary>Started, then the worker was killed (UnexpectedExit); the handle stays open.</summary>
    StoppedUnexpectedly,
}

/// <summary>
/// Base of every conformance class: owns the per-test <see cref="IBackendFixture"/> (disposed after the test) and
/// the helpers the tests share. Every await that could hang is bounded by <see cref="IBackendFixture.Timeout"/>.
/// </summary>
public abstract class ConformanceTestBase : IAsyncLifetime
{
    private HcsClient? _client;

    /// <summary>Takes the fixture of this test.</summary>
    protected ConformanceTestBase(IBackendFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        Fixture = fixture;
    }

    /// <summary>The backend under test.</summary>
    protected IBackendFixture Fixture { get; }

    /// <summary>The test's main client.</summary>
    protected HcsClient Client => _client ??= Fixture.Connect("primary");

    /// <summary>The memory modify request every backend supports (its resource path is the backend's).</summary>
    protected ModifySettingRequest MemoryUpdate(ulong sizeInMb = 128) => Fixture.MemoryUpdate(sizeInMb);

    /// <summary>Minimal valid process parameters.</summary>
    protected static string ProcessParametersJson => HcsJson.Serialize(new ProcessParameters { CommandLine = "/bin/true" });

    /// <inheritdoc />
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Disposes the fixture: clients, then the service (which terminates whatever is left).</summary>
    public virtual async ValueTask DisposeAsync()
    {
        await Fixture.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Creates a system whose guest follows <paramref name="guestVerb"/> and waits until it is constructed.</summary>
    protected Task<ComputeSystem> CreateAsync(string guestVerb = "idle", bool stopOnReset = false, bool terminateOnLastHandleClosed = false,
        HcsClient? client = null, string? id = null) =>
        CreateFromAsync(id ?? Fixture.NewId(), Fixture.VmDocument(guestVerb, stopOnReset, terminateOnLastHandleClosed), client);

    /// <summary>Creates system <paramref name="id"/> from <paramref name="document"/> and waits until it is constructed.</summary>
    protected Task<ComputeSystem> CreateFromAsync(string id, string document, HcsClient? client = null) =>
        Within(ComputeSystem.CreateAsync(client ?? Client, id, document));

    /// <summary>Opens a new handle (idiomatic API).</summary>
    protected Task<ComputeSystem> OpenAsync(string id, HcsClient? client = null) => Within(ComputeSystem.OpenAsync(client ?? Client, id));

    /// <summary>Opens a new raw handle (contract API).</summary>
    protected Task<ISystemHandle> OpenRawAsync(string id, HcsClient? client = null) => Within((client ?? Client).Session.OpenSystemAsync(id));

    /// <summary>Brings a new system into <paramref name="state"/>.</summary>
    protected async Task<ComputeSystem> PrepareAsync(Prepared state)
    {
        var system = await CreateAsync(state == Prepared.StoppedByGuest ? "poweroff:0" : "idle");
        if (state == Prepared.Created)
        {
            return system;
        }

        await Within(system.StartAsync());
        switch (state)
        {
            case Prepared.Paused:
                await Within(system.PauseAsync());
                break;
            case Prepared.Stopped:
                await Within(system.TerminateAsync());
                break;
            case Prepared.StoppedByGuest:
                await Within(system.WaitForExitAsync());
                break;
            case Prepared.StoppedUnexpectedly:
                Fixture.KillWorker(system.Id);
                await Within(system.WaitForExitAsync());
                break;
        }

        return system;
    }

    /// <summary>The public state a <see cref="Prepared"/> system reports.</summary>
    protected static SystemState StateOf(Prepared state) => state switch
    {
        Prepared.Created => SystemState.Created,
        Prepared.Running => SystemState.Running,
        Prepared.Paused => SystemState.Paused,
        _ => SystemState.Stopped,
    };

    /// <summary>The system's current state.</summary>
    protected async Task<SystemState?> StateAsync(ComputeSystem system) => (await Within(system.GetPropertiesAsync())).State;

    /// <summary>Asserts the system reports <paramref name="expected"/>.</summary>
    protected async Task AssertStateAsync(SystemState expected, ComputeSystem system) =>
        Assert.Equal(expected, await StateAsync(system));

    /// <summary>Asserts that <paramref name="call"/> fails with <paramref name="expectedHr"/> (by name, for readable failures).</summary>
    protected async Task<HcsException> AssertFailsAsync(int expectedHr, Func<Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var e = await Assert.ThrowsAnyAsync<HcsException>(() => call().WaitAsync(Fixture.Timeout));
        Assert.True(e.HResult == expectedHr, $"expected {HResults.NameOf(expectedHr)}, got {e.HResultName}: {e.Message}");
        return e;
    }

    /// <summary>Bounds <paramref name="task"/> by the safety timeout.</summary>
    protected Task Within(Task task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.WaitAsync(Fixture.Timeout);
    }

    /// <summary>Bounds <paramref name="task"/> by the safety timeout.</summary>
    protected Task<T> Within<T>(Task<T> task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.WaitAsync(Fixture.Timeout);
    }

    /// <summary>Bounds <paramref name="task"/> by the safety timeout.</summary>
    protected Task Within(ValueTask task) => Within(task.AsTask());

    /// <summary>Starts recording <paramref name="system"/>'s events (subscribes now).</summary>
    protected EventRecorder Record(ComputeSystem system) => EventRecorder.Start(system, Fixture.Timeout);

    /// <summary>Starts recording a raw handle's events (subscribes now).</summary>
    protected EventRecorder Record(ISystemHandle handle) => EventRecorder.Start(handle, Fixture.Timeout);

    /// <summary>Parses the EventData of a SystemExited event.</summary>
    protected static SystemExitStatus ExitStatusOf(HcsEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        Assert.Equal(HcsEventType.SystemExited, e.Type);
        Assert.False(string.IsNullOrEmpty(e.EventData), "SystemExited carries a SystemExitStatus as EventData");
        return HcsJson.Deserialize<SystemExitStatus>(e.EventData!);
    }

    /// <summary>The one attribution record of kind <typeparamref name="T"/> in <paramref name="status"/>.</summary>
    protected static T Attribution<T>(SystemExitStatus status, Func<AttributionRecord, T?> pick) where T : class
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(pick);
        var found = (status.Attribution ?? []).Select(pick).Where(r => r is not null).ToList();
        Assert.True(found.Count == 1, $"expected one {typeof(T).Name} attribution, got {found.Count} in {HcsJson.Serialize(status)}");
        return found[0]!;
    }

    /// <summary>
    /// Skips the test unless the backend's systems have a guest kernel (to panic, reset or crash on request): the
    /// behaviour under test does not exist for a container.
    /// </summary>
    protected void RequireGuestKernel() =>
        Assert.SkipUnless(Fixture.HasGuestKernel, $"the {Fixture.Name} backend's systems have no guest kernel to crash or reset");

    /// <summary>Skips the test unless the backend can save a paused system's state.</summary>
    protected void RequireSave() =>
        Assert.SkipUnless(Fixture.CanSave, $"the {Fixture.Name} backend cannot save a system's state (no checkpoint/restore)");

    /// <summary>Skips the test unless the backend can make a Start hang; returns the create document otherwise.</summary>
    protected string RequireHangingStart(string id)
    {
        var document = Fixture.HangsOnStartDocument(id);
        Assert.SkipWhen(document is null, $"the {Fixture.Name} backend cannot make Start hang");
        return document!;
    }
}
