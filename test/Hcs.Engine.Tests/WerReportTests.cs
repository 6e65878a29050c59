// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Engine.Tests;

/// <summary>
/// <c>HcsSubmitWerReport</c> through the service contract on the fake backend: the CrashReport of a guest crash event
/// is filed in the engine's crash directory, strictly validated, never overwriting.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WerReportTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2026, 3, 14, 15, 9, 26, 535, TimeSpan.Zero);
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("hcs-wer-");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string CrashDirectory => Path.Combine(_root.FullName, "state", "crash");

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([new FakeBackend()], new EngineOptions { CrashDirectory = CrashDirectory, Time = new FixedTime(s_now) });
        _client = HcsClient.Connect(_engine, "wer-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
        _root.Delete(recursive: true);
    }

    private static string Document(string verb) => HcsJson.Serialize(new Schema.ComputeSystem
    {
        SchemaVersion = new Schema.Version { Major = 2, Minor = 5 },
        VirtualMachine = new VirtualMachine
        {
            Chipset = new Chipset { LinuxKernelDirect = new LinuxKernelDirect { KernelFilePath = "/fake/vmlinuz", KernelCmdLine = $"hcstest={verb}" } },
            Devices = new Devices { GuestCrashReporting = new GuestCrashReporting() },
        },
    });

    private async Task<string> CrashReportOfAPanicAsync(string id)
    {
        await using var vm = await ComputeSystem.CreateAsync(_client, id, Document("panic:200"), Ct);
        // Subscribe before Start, on this thread: the first MoveNextAsync runs the iterator up to its first wait,
        // which is after the engine has registered the subscription (no race with the 200 ms panic).
        var events = vm.EventsAsync(Ct).GetAsyncEnumerator(Ct);
        var first = events.MoveNextAsync();
        var reading = ReadCrashReportAsync(events, first);
        await vm.StartAsync(Ct);
        return await reading.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    private static async Task<string> ReadCrashReportAsync(IAsyncEnumerator<HcsEvent> events, ValueTask<bool> next)
    {
        await using (events)
        {
            while (await next)
            {
                if (events.Current.Type == HcsEventType.SystemCrashReport)
                {
                    return events.Current.EventData!;
                }

                next = events.MoveNextAsync();
            }
        }

        throw new InvalidOperationException("no crash report event");
    }

    private async Task<HcsException> RefusedAsync(string? settings)
    {
        var e = await Assert.ThrowsAsync<HcsException>(() => _client.Session.SubmitWerReportAsync(settings!, Ct));
        Assert.Equal("Service.SubmitWerReport", e.Operation);
        return e;
    }

    [Fact]
    public async Task SubmitWerReport_OfAGuestCrashEvent_FilesTheReportAndItsLogPrivately()
    {
        var eventData = await CrashReportOfAPanicAsync("crashed");
        var activity = HcsJson.Deserialize<CrashReport>(eventData).ActivityId;

        var path = await _client.Session.SubmitWerReportAsync(eventData, Ct);

        Assert.Equal(CrashDirectory, Path.GetDirectoryName(path));
        Assert.StartsWith("crashed-20260314T150926535Z-", Path.GetFileName(path), StringComparison.Ordinal);
        Assert.EndsWith(".json", path, StringComparison.Ordinal);
        if (activity is { } a)
        {
            Assert.Contains(a.ToString("D"), path, StringComparison.Ordinal);
        }

        var filed = HcsJson.Deserialize<CrashReport>(await File.ReadAllTextAsync(path, Ct));
        Assert.Equal("crashed", filed.SystemId);
        Assert.Contains("Kernel panic - not syncing", filed.CrashLog, StringComparison.Ordinal);
        var log = Path.ChangeExtension(path, ".log");
        Assert.Equal(filed.CrashLog, await File.ReadAllTextAsync(log, Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(CrashDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
    }

    [Fact]
    public async Task SubmitWerReport_TheSameReportTwiceAtTheSameInstant_FilesTwoReportsAndOverwritesNothing()
    {
        var report = HcsJson.Serialize(new CrashReport { SystemId = "vm1", ActivityId = Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"), CrashLog = "first" });
        var first = await _client.Session.SubmitWerReportAsync(report, Ct);
        var second = await _client.Session.SubmitWerReportAsync(report.Replace("first", "second", StringComparison.Ordinal), Ct);

        Assert.NotEqual(first, second);
        Assert.Equal("vm1-20260314T150926535Z-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0.json", Path.GetFileName(first));
        Assert.Equal("vm1-20260314T150926535Z-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0-1.json", Path.GetFileName(second));
        Assert.Equal("first", await File.ReadAllTextAsync(Path.ChangeExtension(first, ".log"), Ct));
        Assert.Equal("second", await File.ReadAllTextAsync(Path.ChangeExtension(second, ".log"), Ct));
    }

    [Fact]
    public async Task SubmitWerReport_WithoutActivityIdOrLog_FilesOnlyTheJsonUnderANewActivityId()
    {
        var path = await _client.Session.SubmitWerReportAsync("""{"SystemId":"vm2","CrashParameters":[30,1,2,3,4]}""", Ct);

        var name = Path.GetFileNameWithoutExtension(path);
        Assert.True(Guid.TryParseExact(name["vm2-20260314T150926535Z-".Length..], "D", out _), name);
        Assert.Equal([30ul, 1, 2, 3, 4], HcsJson.Deserialize<CrashReport>(await File.ReadAllTextAsync(path, Ct)).CrashParameters);
        Assert.Equal([path], Directory.GetFiles(CrashDirectory));
    }

    [Theory]
    [InlineData("""{"SystemId":"vm","Bugcheck":1}""", "$.Bugcheck", "unknown member 'Bugcheck' of CrashReport")]
    [InlineData("""{"CrashLog":"x"}""", "$.SystemId", "required member 'SystemId' is missing")]
    [InlineData("""{"SystemId":""}""", "$.SystemId", "required member 'SystemId' is missing")]
    [InlineData("""{"SystemId":"../etc/passwd"}""", "$.SystemId", "is not a compute system id")]
    [InlineData("""{"SystemId":"a\nb"}""", "$.SystemId", "is not a compute system id")]
    [InlineData("""{"SystemId":"vm","CrashParameters":[-1]}""", "$.CrashParameters[0]", "out of range for uint64")]
    [InlineData("""{"SystemId":"vm",""", "$.SystemId", "malformed JSON")]
    [InlineData("not json", "$", "malformed JSON")]
    [InlineData("", "$", "the document is empty")]
    [InlineData(null, "$", "a CrashReport document is required")]
    public async Task SubmitWerReport_OfAnInvalidReport_IsInvalidJsonNamingThePath_AndFilesNothing(string? settings, string path, string reason)
    {
        var e = await RefusedAsync(settings);

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains($"{path}: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(CrashDirectory));
    }

    [Fact]
    public async Task SubmitWerReport_WhereTheCrashDirectoryCannotBeCreated_IsAccessDenied()
    {
        await using var engine = new ComputeEngine([new FakeBackend()], new EngineOptions { CrashDirectory = "/sys/hcs-wer-test" });
        await using var client = HcsClient.Connect(engine, "wer-tests");

        var e = await Assert.ThrowsAsync<HcsException>(() => client.Session.SubmitWerReportAsync("""{"SystemId":"vm"}""", Ct));

        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        Assert.Contains("/sys/hcs-wer-test", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("relative/crash")]
    [InlineData("/var/lib/../crash")]
    [InlineData("/var/lib/hcs\n/crash")]
    public void EngineOptions_CrashDirectoryNotAnAbsoluteCleanPath_IsRefused(string directory) =>
        Assert.Throws<ArgumentException>(() => new ComputeEngine([new FakeBackend()], new EngineOptions { CrashDirectory = directory }));

    [Fact]
    public void EngineOptions_DefaultCrashDirectory_IsUnderVarLibForRootElseTheUserStateDirectory()
    {
        var directory = EngineOptions.DefaultCrashDirectory();

        Assert.Equal(Environment.IsPrivilegedProcess, directory == "/var/lib/hcs/crash");
        Assert.EndsWith("/hcs/crash", directory, StringComparison.Ordinal);
        Assert.Equal(directory, new EngineOptions().CrashDirectory);
    }

    [Fact]
    public async Task SubmitWerReport_OnAClosedSession_IsEHandle()
    {
        await _client.DisposeAsync();

        var e = await RefusedAsync("""{"SystemId":"vm"}""");

        Assert.Equal(HResults.E_HANDLE, e.HResult);
    }

    [Fact]
    public async Task SubmitWerReport_LargerThanOneMiCharacters_IsInvalidJsonAtTheRoot_AndFilesNothing()
    {
        var report = """{"SystemId":"vm"}""" + new string(' ', 1024 * 1024); // valid JSON, one character too many

        var e = await RefusedAsync(report);

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$: the crash report is 1048593 characters, larger than the 1048576 this service accepts", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(CrashDirectory));
    }

    [Fact]
    public async Task SubmitWerReport_BeyondTheReportsOneUidMayHave_IsNotEnoughQuota_FilesNothing_AndOtherUidsStillFile()
    {
        await using var engine = new ComputeEngine([new FakeBackend()],
            new EngineOptions { CrashDirectory = CrashDirectory, CrashReports = new CrashReportLimits { MaxReportsPerUid = 2 } });
        await using var alice = engine.OpenSession(new Contracts.ClientIdentity("alice", 1000));
        await using var bob = engine.OpenSession(new Contracts.ClientIdentity("bob", 1001));
        var first = await alice.SubmitWerReportAsync(Report("a1"), Ct);
        await alice.SubmitWerReportAsync(Report("a2"), Ct);

        var e = await Assert.ThrowsAsync<HcsException>(() => alice.SubmitWerReportAsync(Report("a3"), Ct));

        Assert.Equal(HResults.ERROR_NOT_ENOUGH_QUOTA, e.HResult);
        Assert.Equal("Service.SubmitWerReport", e.Operation);
        Assert.Contains($"uid 1000 has 2 crash reports in {CrashDirectory}, the most one uid may have (2)", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, Directory.GetFiles(CrashDirectory).Length); // two reports, each with its log
        await bob.SubmitWerReportAsync(Report("b1"), Ct);

        // A report an administrator removed no longer counts.
        File.Delete(first);
        File.Delete(Path.ChangeExtension(first, ".log"));
        await alice.SubmitWerReportAsync(Report("a3"), Ct);
    }

    [Fact]
    public async Task SubmitWerReport_BeyondTheBytesOneUidMayHave_IsNotEnoughQuota_AndFilesNothing()
    {
        await using var engine = new ComputeEngine([new FakeBackend()],
            new EngineOptions { CrashDirectory = CrashDirectory, CrashReports = new CrashReportLimits { MaxBytesPerUid = 1000 } });
        await using var alice = engine.OpenSession(new Contracts.ClientIdentity("alice", 1000));
        await alice.SubmitWerReportAsync(Report("small"), Ct);

        var e = await Assert.ThrowsAsync<HcsException>(() => alice.SubmitWerReportAsync(Report("big", new string('x', 900)), Ct));

        Assert.Equal(HResults.ERROR_NOT_ENOUGH_QUOTA, e.HResult);
        Assert.Contains("would exceed the 1000 bytes one uid may have", e.Message, StringComparison.Ordinal);
        Assert.Equal(2, Directory.GetFiles(CrashDirectory).Length);
    }

    [Fact]
    public async Task SubmitWerReport_IntoADirectoryHoldingItsQuota_IsNotEnoughQuotaForEveryUid_CountingFilesFromEarlierLives()
    {
        Directory.CreateDirectory(CrashDirectory);
        await File.WriteAllBytesAsync(Path.Combine(CrashDirectory, "vm-earlier.json"), new byte[1900], Ct); // filed before this engine
        await using var engine = new ComputeEngine([new FakeBackend()],
            new EngineOptions { CrashDirectory = CrashDirectory, CrashReports = new CrashReportLimits { MaxDirectoryBytes = 2000 } });

        foreach (var uid in new uint[] { 0, 1000 })
        {
            await using var session = engine.OpenSession(new Contracts.ClientIdentity("client", uid));
            var e = await Assert.ThrowsAsync<HcsException>(() => session.SubmitWerReportAsync(Report("vm", new string('x', 200)), Ct));
            Assert.Equal(HResults.ERROR_NOT_ENOUGH_QUOTA, e.HResult);
            Assert.Contains($"{CrashDirectory} holds 1900 bytes of crash reports", e.Message, StringComparison.Ordinal);
        }

        Assert.Single(Directory.GetFiles(CrashDirectory));
    }

    private static string Report(string id, string? log = null) => HcsJson.Serialize(new CrashReport { SystemId = id, CrashLog = log ?? $"log of {id}" });

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
