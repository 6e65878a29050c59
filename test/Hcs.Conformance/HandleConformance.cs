// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>Calls on a closed handle.</summary>
public enum HandleCall
{
    /// <summary>WaitForCreated (raw handle).</summary>
    WaitForCreated,
    /// <summary>Start.</summary>
    Start,
    /// <summary>ShutDown.</summary>
    ShutDown,
    /// <summary>Terminate.</summary>
    Terminate,
    /// <summary>Pause.</summary>
    Pause,
    /// <summary>Resume.</summary>
    Resume,
    /// <summary>Save.</summary>
    Save,
    /// <summary>Crash.</summary>
    Crash,
    /// <summary>Modify.</summary>
    Modify,
    /// <summary>GetProperties.</summary>
    GetProperties,
    /// <summary>WaitForExit.</summary>
    WaitForExit,
    /// <summary>Subscribe to events.</summary>
    Events,
    /// <summary>CreateProcess.</summary>
    CreateProcess,
    /// <summary>OpenProcess.</summary>
    OpenProcess,
}

/// <summary>
/// Handles: several per system, each independent; closed handles refuse calls with <c>E_HANDLE</c>;
/// <c>ShouldTerminateOnLastHandleClosed</c> across handles and clients (hcs-api.md §7.4).
/// </summary>
public abstract class HandleConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task Open_Twice_GivesIndependentHandlesToOneSystem()
    {
        var system = await PrepareAsync(Prepared.Running);

        var a = await OpenAsync(system.Id);
        var b = await OpenAsync(system.Id);
        await Within(a.DisposeAsync());

        // The other handles still work, and all see one system.
        var viaB = await Within(b.GetPropertiesAsync());
        var viaCreator = await Within(system.GetPropertiesAsync());
        Assert.Equal(viaCreator.RuntimeId, viaB.RuntimeId);
        Assert.Equal(SystemState.Running, viaB.State);
        await Within(b.PauseAsync());
        await AssertStateAsync(SystemState.Paused, system);
    }

    public static TheoryData<HandleCall> ClosedHandleCalls => [.. Enum.GetValues<HandleCall>()];

    [Theory]
    [MemberData(nameof(ClosedHandleCalls), MemberType = typeof(HandleConformance))]
    public async Task Call_OnAClosedHandle_FailsWithInvalidHandle(HandleCall call)
    {
        var system = await PrepareAsync(Prepared.Running);
        var raw = await OpenRawAsync(system.Id);
        await Within(raw.DisposeAsync());

        await AssertFailsAsync(HResults.E_HANDLE, () => InvokeAsync(raw, call));

        await AssertStateAsync(SystemState.Running, system); // the system itself is untouched
    }

    [Fact]
    public async Task Call_OnAClosedIdiomaticHandle_FailsWithInvalidHandle()
    {
        var system = await PrepareAsync(Prepared.Running);
        var closed = await OpenAsync(system.Id);
        await Within(closed.DisposeAsync());

        await AssertFailsAsync(HResults.E_HANDLE, () => closed.GetPropertiesAsync());
        await AssertFailsAsync(HResults.E_HANDLE, () => closed.TerminateAsync());
        await AssertFailsAsync(HResults.E_HANDLE, () => closed.WaitForExitAsync());
        await using var events = closed.EventsAsync().GetAsyncEnumerator();
        await AssertFailsAsync(HResults.E_HANDLE, () => events.MoveNextAsync().AsTask());
    }

    [Fact]
    public async Task Dispose_OfAHandleTwice_IsHarmless()
    {
        var system = await PrepareAsync(Prepared.Running);
        var raw = await OpenRawAsync(system.Id);

        await Within(raw.DisposeAsync());
        await Within(raw.DisposeAsync());

        await AssertStateAsync(SystemState.Running, system);
    }

    [Fact]
    public async Task Session_OfADisposedClient_FailsWithInvalidHandle()
    {
        var system = await PrepareAsync(Prepared.Running);
        var client = Fixture.Connect("short-lived");
        await Within(client.DisposeAsync());

        await AssertFailsAsync(HResults.E_HANDLE, () => client.Session.OpenSystemAsync(system.Id));
        await AssertFailsAsync(HResults.E_HANDLE, () => client.Session.CreateSystemAsync(Fixture.NewId(), Fixture.VmDocument("idle")));
        await AssertFailsAsync(HResults.E_HANDLE, () => client.Session.EnumerateSystemsAsync(null));
    }

    // ---- ShouldTerminateOnLastHandleClosed --------------------------------------------------------------------

    [Fact]
    public async Task LastHandleClosed_WithTerminateOnLastHandleClosed_TerminatesTheSystem_AndFreesItsId()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: true);
        await Within(system.StartAsync());
        var id = system.Id;

        await Within(system.DisposeAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, id));
        var again = await CreateAsync(id: id);
        await AssertStateAsync(SystemState.Created, again);
    }

    [Fact]
    public async Task LastHandleClosed_WithTerminateOnLastHandleClosed_OfCreatedSystem_TerminatesIt()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: true);
        var id = system.Id;

        await Within(system.DisposeAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, id));
    }

    [Fact]
    public async Task NonLastHandleClosed_WithTerminateOnLastHandleClosed_KeepsTheSystemRunning()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: true);
        await Within(system.StartAsync());
        var second = await OpenAsync(system.Id);
        var events = Record(second);

        await Within(system.DisposeAsync());

        await AssertStateAsync(SystemState.Running, second);
        using var watch = new CancellationTokenSource(Fixture.Settle);
        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => second.WaitForExitAsync(watch.Token));
        Assert.Equal(0, events.Count(HcsEventType.SystemExited));
    }

    [Fact]
    public async Task LastHandleClosed_WithoutTerminateOnLastHandleClosed_SystemSurvives_AndCanBeReopened()
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: false);
        await Within(system.StartAsync());
        var id = system.Id;
        var runtimeId = (await Within(system.GetPropertiesAsync())).RuntimeId;

        await Within(system.DisposeAsync());

        var reopened = await OpenAsync(id);
        var properties = await Within(reopened.GetPropertiesAsync());
        Assert.Equal(SystemState.Running, properties.State);
        Assert.Equal(runtimeId, properties.RuntimeId);
        await Within(reopened.TerminateAsync());
    }

    [Fact]
    public async Task ClientDisposed_ClosesItsHandles_AndAppliesTerminateOnLastHandleClosed()
    {
        var owner = Fixture.Connect("owner");
        var doomed = await CreateAsync(terminateOnLastHandleClosed: true, client: owner);
        var survivor = await CreateAsync(terminateOnLastHandleClosed: false, client: owner);
        await Within(doomed.StartAsync());
        await Within(survivor.StartAsync());
        var extra = await OpenAsync(doomed.Id, owner); // two handles of the same client: both close

        await Within(owner.DisposeAsync());

        await AssertFailsAsync(HResults.E_HANDLE, () => extra.GetPropertiesAsync());
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, doomed.Id));
        var reopened = await OpenAsync(survivor.Id);
        await AssertStateAsync(SystemState.Running, reopened);
    }

    [Fact]
    public async Task TwoClients_WithTerminateOnLastHandleClosed_SystemEndsOnlyWhenBothHaveClosed()
    {
        var first = Fixture.Connect("first");
        var second = Fixture.Connect("second");
        var system = await CreateAsync(terminateOnLastHandleClosed: true, client: first);
        await Within(system.StartAsync());
        var other = await OpenAsync(system.Id, second);
        var events = Record(other);

        await Within(first.DisposeAsync());

        await AssertStateAsync(SystemState.Running, other);
        Assert.Equal(0, events.Count(HcsEventType.SystemExited));

        await Within(second.DisposeAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, system.Id));
    }

    private async Task InvokeAsync(ISystemHandle handle, HandleCall call)
    {
        switch (call)
        {
            case HandleCall.WaitForCreated:
                await handle.WaitForCreatedAsync();
                break;
            case HandleCall.Start:
                await handle.StartAsync(null);
                break;
            case HandleCall.ShutDown:
                await handle.ShutDownAsync(null);
                break;
            case HandleCall.Terminate:
                await handle.TerminateAsync(null);
                break;
            case HandleCall.Pause:
                await handle.PauseAsync(null);
                break;
            case HandleCall.Resume:
                await handle.ResumeAsync(null);
                break;
            case HandleCall.Save:
                await handle.SaveAsync(HcsJson.Serialize(new SaveOptions
                {
                    SaveType = SaveType.ToFile,
                    SaveStateFilePath = Path.Combine(Fixture.TempDirectory, "closed.vmrs"),
                }));
                break;
            case HandleCall.Crash:
                await handle.CrashAsync(null);
                break;
            case HandleCall.Modify:
                await handle.ModifyAsync(HcsJson.Serialize(MemoryUpdate()));
                break;
            case HandleCall.GetProperties:
                await handle.GetPropertiesAsync(null);
                break;
            case HandleCall.WaitForExit:
                await handle.WaitForExitAsync();
                break;
            case HandleCall.Events:
                await foreach (var _ in handle.ReadEventsAsync())
                {
                    break;
                }

                break;
            case HandleCall.CreateProcess:
                await using (await handle.CreateProcessAsync(ProcessParametersJson))
                {
                }

                break;
            case HandleCall.OpenProcess:
                await using (await handle.OpenProcessAsync(1))
                {
                }

                break;
        }
    }
}
