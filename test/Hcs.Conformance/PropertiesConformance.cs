// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Hcs.Schema;
using Xunit;

namespace Hcs.Conformance;

/// <summary>HcsGetComputeSystemProperties: basic properties, Statistics, TerminateOnLastHandleClosed, per-type errors, Stopped systems.</summary>
public abstract class PropertiesConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    [Fact]
    public async Task GetProperties_Basic_ReportsIdentityStateAndOwner()
    {
        var id = Fixture.NewId();
        var document = JsonNode.Parse(Fixture.VmDocument("idle"))!.AsObject();
        document["Owner"] = "conformance-owner";
        var system = await CreateFromAsync(id, document.ToJsonString());

        var created = await Within(system.GetPropertiesAsync());
        await Within(system.StartAsync());
        var running = await Within(system.GetPropertiesAsync());
        var again = await Within(system.GetPropertiesAsync());
        await using var other = await OpenAsync(id);
        var viaOther = await Within(other.GetPropertiesAsync());

        Assert.Equal(id, running.Id);
        Assert.Equal(Fixture.SystemType, running.SystemType);
        Assert.Equal("conformance-owner", running.Owner);
        Assert.Equal(SystemState.Created, created.State);
        Assert.Equal(SystemState.Running, running.State);
        Assert.False(running.Stopped);
        Assert.Equal(NotificationType.None, running.ExitType);
        Assert.NotNull(running.RuntimeId);
        Assert.NotEqual(Guid.Empty, running.RuntimeId);
        Assert.Equal(created.RuntimeId, running.RuntimeId);
        Assert.Equal(running.RuntimeId, again.RuntimeId);
        Assert.Equal(running.RuntimeId, viaOther.RuntimeId);
        Assert.Null(running.Statistics); // only asked-for property types are answered
        Assert.Null(running.PropertyResponses);
    }

    [Fact]
    public async Task GetProperties_RuntimeId_DiffersBetweenSystemsAndIncarnationsOfAnId()
    {
        var first = await PrepareAsync(Prepared.Stopped);
        var other = await PrepareAsync(Prepared.Created);
        var firstRuntimeId = (await Within(first.GetPropertiesAsync())).RuntimeId;
        var id = first.Id;
        await Within(first.DisposeAsync());
        var reborn = await CreateAsync(id: id);

        Assert.NotEqual(firstRuntimeId, (await Within(other.GetPropertiesAsync())).RuntimeId);
        Assert.NotEqual(firstRuntimeId, (await Within(reborn.GetPropertiesAsync())).RuntimeId);
    }

    [Fact]
    public async Task GetProperties_Statistics_UptimeGrowsWhileRunning()
    {
        var system = await PrepareAsync(Prepared.Created);
        var beforeStart = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics;
        await Within(system.StartAsync());

        var first = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics;
        await Task.Delay(TimeSpan.FromMilliseconds(30)); // the quantity under test is elapsed time
        var second = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics;

        Assert.NotNull(beforeStart);
        Assert.Equal(0ul, beforeStart.Uptime100ns ?? 0);
        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.NotNull(first.Timestamp);
        Assert.NotNull(second.Timestamp);
        Assert.True(second.Timestamp > first.Timestamp, $"Timestamp {second.Timestamp:o} is after {first.Timestamp:o}");
        Assert.NotNull(first.Uptime100ns);
        Assert.NotNull(second.Uptime100ns);
        Assert.True(second.Uptime100ns > first.Uptime100ns, $"Uptime grew: {first.Uptime100ns} -> {second.Uptime100ns}");
        Assert.True(TimeSpan.FromTicks((long)second.Uptime100ns!.Value) >= TimeSpan.FromMilliseconds(25), "uptime counts the time waited");
    }

    [Fact]
    public async Task GetProperties_Statistics_UptimeStopsGrowingOnceStopped()
    {
        var system = await PrepareAsync(Prepared.Stopped);

        var first = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics;
        await Task.Delay(TimeSpan.FromMilliseconds(20)); // the quantity under test is elapsed time
        var second = (await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics]))).Statistics;

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Equal(first.Uptime100ns, second.Uptime100ns);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetProperties_TerminateOnLastHandleClosed_ReportsTheDocumentSetting(bool terminateOnLastHandleClosed)
    {
        var system = await CreateAsync(terminateOnLastHandleClosed: terminateOnLastHandleClosed);

        var properties = await Within(system.GetPropertiesAsync([SystemPropertyType.TerminateOnLastHandleClosed]));

        Assert.Equal(terminateOnLastHandleClosed, properties.TerminateOnLastHandleClosed);
        Assert.Null(properties.PropertyResponses);
    }

    [Fact]
    public async Task GetProperties_UnsupportedPropertyType_ReportsNotSupportedForThatType_AndAnswersTheRest()
    {
        var system = await PrepareAsync(Prepared.Running);

        var properties = await Within(system.GetPropertiesAsync(
            [SystemPropertyType.SharedMemoryRegion, SystemPropertyType.Statistics, SystemPropertyType.TerminateOnLastHandleClosed]));

        Assert.NotNull(properties.PropertyResponses);
        var response = Assert.Contains(nameof(SystemPropertyType.SharedMemoryRegion), properties.PropertyResponses);
        Assert.NotNull(response.Error);
        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, response.Error.Error);
        Assert.DoesNotContain(nameof(SystemPropertyType.Statistics), properties.PropertyResponses.Keys);
        Assert.NotNull(properties.Statistics);
        Assert.NotNull(properties.TerminateOnLastHandleClosed);
        Assert.Equal(SystemState.Running, properties.State);
    }

    [Theory]
    [InlineData(Prepared.Stopped, NotificationType.ForcedExit)]
    [InlineData(Prepared.StoppedByGuest, NotificationType.GracefulExit)]
    [InlineData(Prepared.StoppedUnexpectedly, NotificationType.UnexpectedExit)]
    public async Task GetProperties_OfStoppedSystem_ReportsStoppedAndHowItExited(Prepared state, NotificationType exitType)
    {
        var system = await PrepareAsync(state);

        var properties = await Within(system.GetPropertiesAsync([SystemPropertyType.Statistics, SystemPropertyType.TerminateOnLastHandleClosed]));

        Assert.Equal(SystemState.Stopped, properties.State);
        Assert.True(properties.Stopped);
        Assert.Equal(exitType, properties.ExitType);
        Assert.Equal(system.Id, properties.Id);
        Assert.NotNull(properties.Statistics);
        Assert.False(properties.TerminateOnLastHandleClosed);
    }

    [Fact]
    public async Task GetProperties_WithUnknownPropertyType_FailsWithInvalidJson()
    {
        var system = await PrepareAsync(Prepared.Running);
        await using var raw = await OpenRawAsync(system.Id);

        await AssertFailsAsync(HResults.HCS_E_INVALID_JSON, () => raw.GetPropertiesAsync("""{"PropertyTypes":["NoSuchType"]}"""));
        await AssertFailsAsync(HResults.HCS_E_INVALID_JSON, () => raw.GetPropertiesAsync("""{"PropertyTypes":"""));
    }
}
