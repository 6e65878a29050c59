// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text.Json.Nodes;
using Hcs.Client;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>
/// Create, open, close and enumerate; ShutDown and Terminate idempotence and joining; the shutdown timeout; and
/// cancellation of a pending call.
/// </summary>
public abstract class LifecycleConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    // ---- create / open / enumerate --------------------------------------------------------------------------

    [Fact]
    public async Task Create_ReturnsHandleAtOnce_AndConstructionEndsInCreatedState()
    {
        var id = Fixture.NewId();
        await using var handle = await Within(Client.Session.CreateSystemAsync(id, Fixture.VmDocument("idle")));

        Assert.Equal(id, handle.Id);
        await Within(handle.WaitForCreatedAsync());
        var properties = HcsJson.Deserialize<Properties>(await Within(handle.GetPropertiesAsync(null)));
        Assert.Equal(SystemState.Created, properties.State);
        Assert.Equal(id, properties.Id);
    }

    [Fact]
    public async Task Create_WithIdInUse_FailsWithSystemAlreadyExists()
    {
        var system = await CreateAsync();

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, () => CreateAsync(id: system.Id));
        await AssertStateAsync(SystemState.Created, system); // the first system is untouched
    }

    [Fact]
    public async Task Create_WithIdOfStoppedSystemWhoseHandleIsOpen_FailsWithSystemAlreadyExists()
    {
        var system = await PrepareAsync(Prepared.Stopped);

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, () => CreateAsync(id: system.Id));
    }

    [Fact]
    public async Task Open_UnknownId_FailsWithSystemNotFound()
    {
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, Fixture.NewId("unknown")));
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => Client.Session.OpenSystemAsync(Fixture.NewId("unknown")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("a\nb")]
    [InlineData("a b")]
    [InlineData(".hidden")]
    [InlineData("toolong")]
    public async Task Create_WithInvalidId_FailsWithInvalidArg(string id)
    {
        if (id == "toolong")
        {
            id = new string('x', 129);
        }

        await AssertFailsAsync(HResults.E_INVALIDARG, () => ComputeSystem.CreateAsync(Client, id, Fixture.VmDocument("idle")));
        await AssertFailsAsync(HResults.E_INVALIDARG, () => Client.Session.CreateSystemAsync(id, Fixture.VmDocument("idle")));
    }

    [Fact]
    public async Task Create_WithLongestValidId_Succeeds()
    {
        var id = new string('x', 128);

        var system = await CreateAsync(id: id);

        Assert.Equal(id, (await Within(system.GetPropertiesAsync())).Id);
    }

    [Theory]
    [InlineData("syntax", "$")]
    [InlineData("unknown-member", "$.Bogus")]
    [InlineData("wrong-type", "$.ShouldTerminateOnLastHandleClosed")]
    public async Task Create_WithInvalidJson_FailsWithInvalidJsonNamingThePath(string defect, string path)
    {
        var document = Fixture.VmDocument("idle");
        var node = JsonNode.Parse(document)!.AsObject();
        switch (defect)
        {
            case "syntax":
                document = document[..^1]; // drop the closing brace
                break;
            case "unknown-member":
                node["Bogus"] = 1;
                document = node.ToJsonString();
                break;
            default:
                node["ShouldTerminateOnLastHandleClosed"] = "yes";
                document = node.ToJsonString();
                break;
        }

        var id = Fixture.NewId();
        var e = await AssertFailsAsync(HResults.HCS_E_INVALID_JSON, () => ComputeSystem.CreateAsync(Client, id, document));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, id)); // nothing was registered
    }

    [Fact]
    public async Task Create_HostedSystem_FailsWithInvalidJsonNamingHostedSystem()
    {
        const string Document = """
            {"SchemaVersion":{"Major":2,"Minor":1},"HostingSystemId":"uvm","HostedSystem":{"SchemaVersion":{"Major":2,"Minor":1},"Container":{}}}
            """;

        var e = await AssertFailsAsync(HResults.HCS_E_INVALID_JSON, () => ComputeSystem.CreateAsync(Client, Fixture.NewId(), Document));

        Assert.Contains("$.HostedSystem", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enumerate_WithSystemQuery_ReturnsExactlyTheMatchingSystems()
    {
        var a = await CreateFromAsync(Fixture.NewId("a"), WithOwner(Fixture.VmDocument("idle"), "alice"));
        var b = await CreateFromAsync(Fixture.NewId("b"), WithOwner(Fixture.VmDocument("idle"), "bob"));
        var c = await CreateFromAsync(Fixture.NewId("c"), WithOwner(Fixture.VmDocument("idle"), "alice"));
        var otherType = Fixture.SystemType == SystemType.VirtualMachine ? nameof(SystemType.Container) : nameof(SystemType.VirtualMachine);

        async Task<string[]> Ids(SystemQuery? query) =>
            [.. (await Within(ComputeSystem.EnumerateAsync(Client, query))).Select(p => p.Id!).Order(StringComparer.Ordinal)];
        string[] Expect(params ComputeSystem[] systems) => [.. systems.Select(s => s.Id).Order(StringComparer.Ordinal)];

        Assert.Equal(Expect(a, b, c), await Ids(null));
        Assert.Equal(Expect(a, b, c), await Ids(new SystemQuery()));
        Assert.Equal(Expect(a, b), await Ids(new SystemQuery { Ids = [a.Id, b.Id] }));
        Assert.Equal(Expect(c), await Ids(new SystemQuery { Names = [c.Id] }));
        Assert.Equal(Expect(a, c), await Ids(new SystemQuery { Owners = ["alice"] }));
        Assert.Equal(Expect(a, b, c), await Ids(new SystemQuery { Owners = ["alice", "bob"] }));
        Assert.Equal(Expect(a), await Ids(new SystemQuery { Ids = [a.Id, b.Id], Owners = ["alice"] }));
        Assert.Equal(Expect(a, b, c), await Ids(new SystemQuery { Types = [Fixture.SystemType.ToString()] }));
        Assert.Empty(await Ids(new SystemQuery { Types = [otherType] }));
        Assert.Empty(await Ids(new SystemQuery { Ids = [a.Id], Owners = ["bob"] }));
        Assert.Empty(await Ids(new SystemQuery { Ids = [Fixture.NewId("unknown")] }));
    }

    [Fact]
    public async Task Enumerate_ReportsEachSystemsState()
    {
        var created = await PrepareAsync(Prepared.Created);
        var running = await PrepareAsync(Prepared.Running);
        var stopped = await PrepareAsync(Prepared.Stopped);

        var all = (await Within(ComputeSystem.EnumerateAsync(Client))).ToDictionary(p => p.Id!, StringComparer.Ordinal);

        Assert.Equal(SystemState.Created, all[created.Id].State);
        Assert.Equal(SystemState.Running, all[running.Id].State);
        Assert.Equal(SystemState.Stopped, all[stopped.Id].State);
        Assert.Equal(Fixture.SystemType, all[running.Id].SystemType);
    }

    [Fact]
    public async Task Open_AfterStopAndLastHandleClosed_FailsWithSystemNotFound_AndIdIsReusable()
    {
        var system = await PrepareAsync(Prepared.Stopped);
        var id = system.Id;

        await Within(system.DisposeAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_NOT_FOUND, () => ComputeSystem.OpenAsync(Client, id));
        Assert.DoesNotContain(id, (await Within(ComputeSystem.EnumerateAsync(Client))).Select(p => p.Id));
        var again = await CreateAsync(id: id);
        await AssertStateAsync(SystemState.Created, again);
    }

    [Fact]
    public async Task Open_OfStoppedSystemWithAnOpenHandle_Succeeds_AndReportsStopped()
    {
        var system = await PrepareAsync(Prepared.Stopped);

        await using var second = await OpenAsync(system.Id);

        var properties = await Within(second.GetPropertiesAsync());
        Assert.Equal(SystemState.Stopped, properties.State);
        Assert.Equal(NotificationType.ForcedExit, properties.ExitType);
    }

    // ---- ShutDown / Terminate idempotence -------------------------------------------------------------------

    [Fact]
    public async Task Terminate_WhenAlreadyStopped_FailsWithSystemAlreadyStopped()
    {
        var system = await PrepareAsync(Prepared.Running);
        await Within(system.TerminateAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, () => system.TerminateAsync());
    }

    [Fact]
    public async Task Shutdown_WhenAlreadyStopped_FailsWithSystemAlreadyStopped()
    {
        var system = await PrepareAsync(Prepared.Running);
        await Within(system.ShutDownAsync());

        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, () => system.ShutDownAsync());
    }

    [Fact]
    public async Task Terminate_Concurrently_FromTwoHandles_JoinsOrFindsItStopped()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var other = await OpenAsync(system.Id);

        var first = system.TerminateAsync();
        var second = other.TerminateAsync();
        await Within(first);
        await JoinedOrAlreadyStoppedAsync(second);

        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.ForcedExit, exit.ExitType);
    }

    [Fact]
    public async Task Shutdown_WhileShutdownPending_JoinsItOrFindsItStopped()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var other = await OpenAsync(system.Id);

        var first = system.ShutDownAsync();
        var second = other.ShutDownAsync();
        await Within(first);
        await JoinedOrAlreadyStoppedAsync(second);

        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
    }

    [Fact]
    public async Task Shutdown_WhileShutdownPendingOnGuestThatIgnoresIt_JoinsIt_AndBothTimeOut()
    {
        var system = await CreateIgnoringShutdownAsync();

        var first = system.ShutDownAsync();
        var second = system.ShutDownAsync();
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => first);
        await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => second);

        await AssertStateAsync(SystemState.Running, system);
        await Within(system.TerminateAsync());
    }

    [Fact]
    public async Task Shutdown_WhileTerminating_FailsWithSystemAlreadyStopped()
    {
        var system = await PrepareAsync(Prepared.Running);

        var terminate = system.TerminateAsync();
        await AssertFailsAsync(HResults.HCS_E_SYSTEM_ALREADY_STOPPED, () => system.ShutDownAsync());

        await Within(terminate);
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Terminate_RightAfterShutdownOfGuestThatIgnoresIt_Succeeds_AndThePendingShutdownSucceeds()
    {
        var system = await CreateIgnoringShutdownAsync();

        var shutdown = system.ShutDownAsync();
        await Within(system.TerminateAsync());

        await Within(shutdown);
        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.ForcedExit, exit.ExitType);
        var cause = Attribution(exit, r => r.SystemExit);
        Assert.Equal(SystemExitDetail.Terminate, cause.Detail);
        Assert.Equal(ExitInitiator.Client, cause.Initiator);
    }

    [Fact]
    public async Task Terminate_DuringPendingShutdownOfGuestThatIgnoresIt_Succeeds_AndThePendingShutdownSucceeds()
    {
        var system = await CreateIgnoringShutdownAsync();

        var shutdown = system.ShutDownAsync();
        // Not waiting for anything: gives the request time to reach the guest, so this interleaving differs from the
        // test above. The outcome must be the same either way.
        await Task.Delay(Fixture.Settle / 4);
        Assert.False(shutdown.IsCompleted, "the guest ignores the shutdown request, so ShutDown is still pending");
        await Within(system.TerminateAsync());

        await Within(shutdown);
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Shutdown_OfGuestThatIgnoresIt_FailsWithTimeoutAfterShutdownTimeout_AndSystemKeepsRunning()
    {
        var system = await CreateIgnoringShutdownAsync();

        var clock = Stopwatch.StartNew();
        var e = await AssertFailsAsync(HResults.ERROR_TIMEOUT, () => system.ShutDownAsync());
        clock.Stop();

        Assert.True(clock.Elapsed >= Fixture.ShutdownTimeout * 0.9, $"ShutDown gave up after {clock.Elapsed}, before the {Fixture.ShutdownTimeout} timeout");
        await AssertStateAsync(SystemState.Running, system);
        var stillRunning = await Within(system.GetPropertiesAsync());
        Assert.Equal(NotificationType.None, stillRunning.ExitType);

        await Within(system.TerminateAsync());
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task Shutdown_OfCreatedSystem_StopsItWithGracefulExit()
    {
        var system = await PrepareAsync(Prepared.Created);

        await Within(system.ShutDownAsync());

        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        await AssertStateAsync(SystemState.Stopped, system);
    }

    [Fact]
    public async Task Terminate_OfCreatedSystem_StopsItWithForcedExit()
    {
        var system = await PrepareAsync(Prepared.Created);

        await Within(system.TerminateAsync());

        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
        await AssertStateAsync(SystemState.Stopped, system);
    }

    // ---- cancellation ---------------------------------------------------------------------------------------

    [Fact]
    public async Task Start_WhenCancelledWhilePending_FailsWithCancelled_AndSystemStaysCreated()
    {
        var id = Fixture.NewId();
        var system = await CreateFromAsync(id, RequireHangingStart(id));
        using var cancel = new CancellationTokenSource();

        var start = system.StartAsync(cancel.Token);
        Assert.False(start.IsCompleted, "Start of a system whose guest never comes up stays pending");
        await Fixture.StartArrivedAsync(id);
        await cancel.CancelAsync();

        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => start);
        await AssertStateAsync(SystemState.Created, system);
        await Within(system.TerminateAsync());
        Assert.Equal(NotificationType.ForcedExit, (await Within(system.WaitForExitAsync())).ExitType);
    }

    [Fact]
    public async Task WaitForExit_WhenCancelled_FailsWithCancelled_AndSystemKeepsRunning()
    {
        var system = await PrepareAsync(Prepared.Running);
        using var cancel = new CancellationTokenSource(Fixture.Settle / 4);

        await AssertFailsAsync(HResults.ERROR_CANCELLED, () => system.WaitForExitAsync(cancel.Token));

        await AssertStateAsync(SystemState.Running, system);
    }

    private async Task<ComputeSystem> CreateIgnoringShutdownAsync()
    {
        var id = Fixture.NewId("noacpi");
        var system = await CreateFromAsync(id, Fixture.IgnoresShutdownDocument(id));
        await Within(system.StartAsync());
        return system;
    }

    private static string WithOwner(string document, string owner)
    {
        var node = JsonNode.Parse(document)!.AsObject();
        node["Owner"] = owner;
        return node.ToJsonString();
    }

    /// <summary>
    /// A second call made while the first is in flight joins it and succeeds; one that arrives after the stop has been
    /// finalised gets HCS_E_SYSTEM_ALREADY_STOPPED. Which one happens depends on timing, both are correct.
    /// </summary>
    private async Task JoinedOrAlreadyStoppedAsync(Task second)
    {
        var error = await Xunit.Record.ExceptionAsync(() => Within(second));
        Assert.True(error is null || (error is HcsException e && e.HResult == HResults.HCS_E_SYSTEM_ALREADY_STOPPED), $"unexpected {error}");
    }
}
