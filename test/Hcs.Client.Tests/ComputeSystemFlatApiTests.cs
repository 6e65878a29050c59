// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Client.Tests;

/// <summary>Compute systems and the service through the computecore-shaped flat API (hcs-api.md §3.2, §3.5).</summary>
public sealed class ComputeSystemFlatApiTests
{
    [Fact]
    public async Task CreateComputeSystem_WithInvalidJson_FailsTheCall_AndTheOperationNamesTheJsonPath()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        const string Config = """
        {
            "SchemaVersion": { "Major": 2, "Minor": 1 },
            "VirtualMachine": { "ComputeTopology": { "Memory": { "SizeInMB": "lots" } } }
        }
        """;
        using var op = HcsCreateOperation(null, null);

        var hr = HcsCreateComputeSystem(id, Config, op, null, out var system);

        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, hr);
        Assert.Null(system);
        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
        var error = TestEnv.ParseError(doc);
        Assert.Equal(HResults.HCS_E_INVALID_JSON, error.Error);
        Assert.Contains("$.VirtualMachine.ComputeTopology.Memory.SizeInMB", error.ErrorMessage, StringComparison.Ordinal);
        TestEnv.Hr(HResults.HCS_E_SYSTEM_NOT_FOUND, HcsOpenComputeSystem(id, GENERIC_ALL, out _));
    }

    [Fact]
    public async Task CreateComputeSystem_WithMalformedJson_IsInvalidJson()
    {
        await using var env = new TestEnv();
        using var op = HcsCreateOperation(null, null);

        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsCreateComputeSystem(TestEnv.NewId(), "{ \"VirtualMachine\": ", op, null, out var system));

        Assert.Null(system);
        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsGetOperationResult(op, out var doc));
        Assert.Equal(HResults.HCS_E_INVALID_JSON, TestEnv.ParseError(doc).Error);
    }

    [Fact]
    public async Task CreateComputeSystem_WithAnIdInUse_IsSystemAlreadyExists()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var first = env.Create(id);
        using var op = HcsCreateOperation(null, null);

        var hr = HcsCreateComputeSystem(id, TestEnv.EmptyVm, op, null, out var second);

        TestEnv.Hr(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, hr);
        Assert.Null(second);
        TestEnv.Hr(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc));
        Assert.Equal(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, TestEnv.ParseError(doc).Error);
        Assert.Equal(SystemState.Created, TestEnv.StateOf(first)); // the existing system is untouched
    }

    [Fact]
    public async Task CreateComputeSystem_ReturnsTheHandleAtOnce_AndCallsOnItWaitForConstruction()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        await using var env = new TestEnv(time);
        var id = TestEnv.NewId();
        env.Fake.Script(id, new FakeScript { CreateDelay = TimeSpan.FromHours(1) });
        using var create = HcsCreateOperation(null, null);
        using var start = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsCreateComputeSystem(id, TestEnv.EmptyVm, create, null, out var system));
        using var closeSystem = system;
        Assert.NotNull(system);
        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(create, out _));
        TestEnv.Ok(HcsStartComputeSystem(system, start, null));
        TestEnv.Hr(HResults.HCS_E_OPERATION_PENDING, HcsGetOperationResult(start, out _));

        env.AdvanceUntilDone(create);

        TestEnv.Ok(HcsWaitForOperationResult(create, TestEnv.Timeout, out var doc), doc);
        TestEnv.Ok(HcsWaitForOperationResult(start, TestEnv.Timeout, out doc), doc);
        Assert.Equal(SystemState.Running, TestEnv.StateOf(system));
    }

    [Fact]
    public async Task CreateComputeSystem_WhenConstructionFails_TheOperationCarriesAConstructAttribution()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        env.Fake.Script(id, new FakeScript { FailCreate = HResults.HCS_E_HYPERV_NOT_INSTALLED });
        using var op = HcsCreateOperation(null, null);

        TestEnv.Ok(HcsCreateComputeSystem(id, TestEnv.EmptyVm, op, null, out var system)); // accepted; construction fails later
        using var closeSystem = system;

        TestEnv.Hr(HResults.HCS_E_HYPERV_NOT_INSTALLED, HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc), doc);
        var error = TestEnv.ParseError(doc);
        Assert.Equal(HResults.HCS_E_HYPERV_NOT_INSTALLED, error.Error);
        Assert.NotNull(error.Attribution);
        Assert.Contains(error.Attribution, a => a.OperationFailure?.Detail == OperationFailureDetail.Construct);
        TestEnv.Hr(HResults.HCS_E_SYSTEM_NOT_FOUND, HcsOpenComputeSystem(id, GENERIC_ALL, out _));
    }

    [Fact]
    public async Task FlatFunctions_RejectNullArguments()
    {
        await using var env = new TestEnv();
        using var op = HcsCreateOperation(null, null);

        TestEnv.Hr(HResults.E_INVALIDARG, HcsStartComputeSystem(null, op, null));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsEnumerateComputeSystems(null, null));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsCreateComputeSystem(TestEnv.NewId(), TestEnv.EmptyVm, null, null, out _));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsCreateComputeSystem(TestEnv.NewId(), TestEnv.EmptyVm, op, new object(), out _));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsWaitForOperationResult(null, 0, out _));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsGetOperationResult(null, out _));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsWaitForComputeSystemExit(null, 0, out _));
        TestEnv.Hr(HResults.E_INVALIDARG, HcsSetComputeSystemCallback(null, HcsEventOptions.None, null, (_, _) => { }));
        Assert.Equal(HcsOperationType.None, HcsGetOperationType(null));
        TestEnv.Hr(HResults.HCS_E_OPERATION_NOT_STARTED, HcsGetOperationResult(op, out _)); // none of these bound it
    }

    [Fact]
    public async Task OpenComputeSystem_UnknownIdIsNotFound_WrongAccessIsDenied_GenericAllOpens()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var created = env.Create(id);

        TestEnv.Hr(HResults.HCS_E_SYSTEM_NOT_FOUND, HcsOpenComputeSystem(TestEnv.NewId("nobody"), GENERIC_ALL, out var unknown));
        Assert.Null(unknown);
        TestEnv.Hr(HResults.E_ACCESSDENIED, HcsOpenComputeSystem(id, 0x80000000 /* GENERIC_READ */, out var denied));
        Assert.Null(denied);

        TestEnv.Ok(HcsOpenComputeSystem(id, GENERIC_ALL, out var opened));
        using var closeOpened = opened;
        Assert.NotNull(opened);
        Assert.NotSame(created, opened);
        Assert.Equal(id, opened.Id);
        Assert.Equal(id, TestEnv.GetProperties(opened).Id);
    }

    [Fact]
    public async Task EnumerateComputeSystems_ReturnsAJsonArrayOfProperties()
    {
        await using var env = new TestEnv();
        var a = TestEnv.NewId("a");
        var b = TestEnv.NewId("b");
        using var sa = env.Create(a);
        using var sb = env.CreateRunning(b);

        var all = TestEnv.Run(op => HcsEnumerateComputeSystems(null, op));
        Assert.True(TestEnv.IsJsonArray(all), all);
        var list = HcsJson.Deserialize<IReadOnlyList<Properties>>(all!);
        Assert.Equal([a, b], list.Select(p => p.Id!).Order(StringComparer.Ordinal));
        Assert.Equal(SystemState.Running, list.Single(p => p.Id == b).State);

        var onlyA = TestEnv.Run(op => HcsEnumerateComputeSystems(HcsJson.Serialize(new SystemQuery { Ids = [a] }), op));
        Assert.True(TestEnv.IsJsonArray(onlyA), onlyA);
        Assert.Equal([a], HcsJson.Deserialize<IReadOnlyList<Properties>>(onlyA!).Select(p => p.Id!));

        var none = TestEnv.Run(op => HcsEnumerateComputeSystems("""{"Ids":["nobody"]}""", op));
        Assert.True(TestEnv.IsJsonArray(none), none);
        Assert.Empty(HcsJson.Deserialize<IReadOnlyList<Properties>>(none!));
    }

    [Fact]
    public async Task EnumerateComputeSystems_WithoutAnyClient_FailsInsteadOfLeavingTheOperationPending()
    {
        // No HcsClient.Use scope here, and no test configures a process-wide default.
        using var op = HcsCreateOperation(null, null);

        var hr = HcsEnumerateComputeSystems(null, op);

        Assert.True(hr < 0, $"enumerate without a service returned 0x{hr:X8}");
        var result = HcsWaitForOperationResult(op, TestEnv.Timeout, out var doc);
        Assert.Equal(hr, result);
        Assert.Equal(hr, TestEnv.ParseError(doc).Error);
    }

    [Fact]
    public async Task WaitForComputeSystemExit_TimesOutWhileRunning_AndReturnsTheExitStatusAfterExit()
    {
        await using var env = new TestEnv();
        using var system = env.CreateRunning(TestEnv.NewId());

        TestEnv.Hr(HResults.HCS_E_OPERATION_TIMEOUT, HcsWaitForComputeSystemExit(system, 20, out var pending));
        Assert.Null(pending);

        TestEnv.Run(op => HcsTerminateComputeSystem(system, op, null));

        TestEnv.Ok(HcsWaitForComputeSystemExit(system, TestEnv.Timeout, out var result), result);
        var status = HcsJson.Deserialize<SystemExitStatus>(result!);
        Assert.Equal(NotificationType.ForcedExit, status.ExitType);

        // Still readable afterwards through the open handle, at once.
        TestEnv.Ok(HcsWaitForComputeSystemExit(system, 0, out var again));
        Assert.Equal(result, again);
    }

    [Fact]
    public async Task WaitForComputeSystemExit_AfterAGuestPowerOff_IsAGracefulExit()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId();
        using var system = env.CreateRunning(id);

        env.Fake.Get(id).PowerOff();

        TestEnv.Ok(HcsWaitForComputeSystemExit(system, TestEnv.Timeout, out var result), result);
        Assert.Equal(NotificationType.GracefulExit, HcsJson.Deserialize<SystemExitStatus>(result!).ExitType);
        Assert.Equal(SystemState.Stopped, TestEnv.StateOf(system));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("""{"PropertyTypes":["Basic"]}""")]
    public async Task GetServiceProperties_Basic_ListsEveryAcceptedSchemaVersion(string? query)
    {
        await using var env = new TestEnv();

        TestEnv.Ok(HcsGetServiceProperties(query, out var result), result);

        var properties = HcsJson.Deserialize<ServiceProperties>(result!);
        Assert.NotNull(properties.Properties);
        var basic = HcsJson.Deserialize<BasicInformation>(properties.Properties[0]);
        Assert.NotNull(basic.SupportedSchemaVersions);
        // One entry per accepted version, as Windows answers: 2.0 through 2.5.
        Assert.Equal(["2.0", "2.1", "2.2", "2.3", "2.4", "2.5"], basic.SupportedSchemaVersions.Select(v => $"{v.Major}.{v.Minor}"));
    }

    [Fact]
    public async Task GetServiceProperties_UnsupportedType_IsAnsweredWithAPropertyResponseError()
    {
        await using var env = new TestEnv();

        TestEnv.Ok(HcsGetServiceProperties("""{"PropertyTypes":["Basic","CpuGroup"]}""", out var result), result);

        var properties = HcsJson.Deserialize<ServiceProperties>(result!);
        Assert.NotNull(properties.PropertyResponses);
        var response = Assert.Contains("CpuGroup", properties.PropertyResponses);
        Assert.NotNull(response.Error);
        Assert.True(response.Error.Error < 0, $"the CpuGroup response carries no failure: {result}");
        Assert.NotNull(properties.Properties);
        Assert.NotEmpty(properties.Properties); // Basic is still answered
    }

    [Theory]
    [InlineData("""{"PropertyTypes":["NoSuchType"]}""")]
    [InlineData("""{"PropertyTypes":"Basic"}""")]
    [InlineData("not json")]
    public async Task GetServiceProperties_InvalidQuery_IsInvalidJson(string query)
    {
        await using var env = new TestEnv();

        var hr = HcsGetServiceProperties(query, out var result);

        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, hr, result);
        Assert.Equal(HResults.HCS_E_INVALID_JSON, TestEnv.ParseError(result).Error);
    }

    [Fact]
    public async Task ServicePropertiesResult_IsValidJson()
    {
        await using var env = new TestEnv();

        TestEnv.Ok(HcsGetServiceProperties(null, out var result));

        using var document = JsonDocument.Parse(result!);
        Assert.Equal(JsonValueKind.Array, document.RootElement.GetProperty("Properties").ValueKind);
    }

    [Fact]
    public async Task SubmitWerReport_OfTheCrashReportEventData_FilesItInTheCrashDirectory()
    {
        await using var env = new TestEnv();
        var id = TestEnv.NewId("crash");
        using var system = env.CreateRunning(id);
        var log = new EventLog();
        TestEnv.Ok(HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, log.Callback()));
        env.Fake.Get(id).Panic("Kernel panic - not syncing: flat api");
        var eventData = log.WaitFor(HcsEventType.SystemCrashReport).EventData;

        TestEnv.Ok(HcsSubmitWerReport(eventData));

        var filed = Assert.Single(Directory.GetFiles(env.CrashDirectory, "*.json"));
        Assert.StartsWith($"{id}-", Path.GetFileName(filed), StringComparison.Ordinal);
        Assert.Contains("Kernel panic - not syncing: flat api", File.ReadAllText(Path.ChangeExtension(filed, ".log")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"CrashLog":"no system id"}""")]
    [InlineData("""{"SystemId":"vm","WindowsCrashInfo":{"FinalPhase":"Done"}}""")]
    [InlineData("{")]
    [InlineData(null)]
    public async Task SubmitWerReport_OfAnInvalidReport_ReturnsInvalidJson_AndFilesNothing(string? settings)
    {
        await using var env = new TestEnv();

        TestEnv.Hr(HResults.HCS_E_INVALID_JSON, HcsSubmitWerReport(settings));

        Assert.False(Directory.Exists(env.CrashDirectory));
    }
}
