// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// Ids against hcs's own names, on real runc (docs/security.md, Ids): an id shaped like a hashed name, a runtime
/// directory or runc container that is already another system's, and ids that begin with <c>-</c>. Each test keeps a
/// bystander container running and proves it untouched.
/// </summary>
public sealed class RuncIdTests : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);
    private readonly string _otherRoot = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);
    private readonly List<IBackendSystem> _systems = [];

    private RuncSettings Settings => new() { RuntimeRoot = _root, CgroupParent = RuncAdoptionTests.CgroupParent };

    private RuncBackend NewBackend() => new(Settings);

    private static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static CancellationToken Bound => new CancellationTokenSource(s_timeout).Token;

    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(s_timeout);

    private static Task Within(Task task) => task.WaitAsync(s_timeout);

    public async ValueTask DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.DisposeAsync();
        }

        foreach (var root in (string[])[_root, _otherRoot])
        {
            await new RuncBackend(Settings with { RuntimeRoot = root, RuncRoot = Path.Combine(_root, ".runc") })
                .CleanOrphansAsync(new HashSet<string>(), CancellationToken.None);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    private async Task<IBackendSystem> CreateAsync(RuncBackend backend, string id)
    {
        Requires.Containers();
        var system = await Within(backend.CreateAsync(new BackendSystemContext(id, RuncBackendFixture.Document(), new RecordingSink(), TimeProvider.System), Bound));
        _systems.Add(system);
        return system;
    }

    private async Task<IBackendSystem> StartedAsync(RuncBackend backend, string id)
    {
        var system = await CreateAsync(backend, id);
        await Within(system.StartAsync(Bound));
        return system;
    }

    /// <summary>Runs <c>sh -c script</c>; returns its stdout and exit code.</summary>
    private static async Task<(string Out, int Code)> ShAsync(IBackendSystem system, string script)
    {
        var exit = new ProcessSink();
        await using var process = await Within(((IBackendProcessHost)system).CreateProcessAsync(
            new ProcessParameters { CommandArgs = ["sh", "-c", script], CreateStdOutPipe = true }, exit, Bound));
        var output = await Within(new StreamReader(process.Stdio.StdOut!).ReadToEndAsync());
        return (output, await Within(exit.Exited));
    }

    /// <summary>The bystander is alive and well: runc runs it, its runtime directory holds its bundle, and it runs a process.</summary>
    private async Task AssertUntouchedAsync(RuncBackend backend, IBackendSystem system, string name, string? runtimeRoot = null)
    {
        Assert.Equal("running", await backend.RuncStatusAsync(name, CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(runtimeRoot ?? _root, name, "config.json")), $"the runtime directory of '{name}' is intact");
        Assert.True(MountTable.Under(Path.Combine(runtimeRoot ?? _root, name)).Count > 0, $"the root file system of '{name}' is still mounted");
        Assert.Equal(("alive\n", 0), await ShAsync(system, "echo alive"));
    }

    /// <summary>The one runtime directory under the root besides runc's own.</summary>
    private string OnlyRuntimeName() => Path.GetFileName(Assert.Single(Directory.GetDirectories(_root), d => Path.GetFileName(d) != ".runc"));

    [Fact]
    public async Task AnIdShapedLikeAHashedName_IsHashedItself_AndLeavesTheContainerHashedToThatNameRunning()
    {
        var backend = NewBackend();
        // Too long for the socket paths: hashed to h-HEX.
        var longId = NewId("long-" + new string('x', 80));
        var bystander = await StartedAsync(backend, longId);
        var hashed = OnlyRuntimeName();
        Assert.Matches("^h-[0-9a-f]{24}$", hashed);

        // Another client names its system after it: Create, Start, a process and Terminate work on a name of its own.
        var shaped = await StartedAsync(backend, hashed);
        Assert.Equal(2, Directory.GetDirectories(_root).Count(d => Path.GetFileName(d) != ".runc"));
        Assert.Equal(("mine\n", 0), await ShAsync(shaped, "echo mine"));
        await AssertUntouchedAsync(backend, bystander, hashed);

        await Within(shaped.TerminateAsync(Bound));
        await shaped.DisposeAsync();
        Assert.Equal(hashed, OnlyRuntimeName());
        await AssertUntouchedAsync(backend, bystander, hashed);
    }

    [Fact]
    public async Task Create_WhenTheRuntimeDirectoryIsAnotherSystems_IsRefused_AndRemovesNothing()
    {
        // Two services over one runtime root (a misconfiguration) both create "shared": the second must not clear the first's.
        var id = NewId("shared");
        var first = NewBackend();
        var running = await StartedAsync(first, id);
        var before = Directory.GetFileSystemEntries(Path.Combine(_root, id)).Order(StringComparer.Ordinal).ToList();

        var e = await Assert.ThrowsAsync<HcsException>(() => CreateAsync(NewBackend(), id));
        Assert.Equal(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, e.HResult);
        Assert.Contains(Path.Combine(_root, id), e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetFileSystemEntries(Path.Combine(_root, id)).Order(StringComparer.Ordinal).ToList());
        await AssertUntouchedAsync(first, running, id);
    }

    [Fact]
    public async Task Start_WhenRuncAlreadyHasAContainerOfThatName_FailsWithRuncsReason_AndLeavesItRunning()
    {
        // Two runtime roots over one runc root: the second Create succeeds (its directory is new), its runc create fails.
        var id = NewId("twice");
        var runcRoot = Path.Combine(_root, ".runc");
        var first = NewBackend();
        var running = await StartedAsync(first, id);
        var second = new RuncBackend(Settings with { RuntimeRoot = _otherRoot, RuncRoot = runcRoot });
        var duplicate = await CreateAsync(second, id);

        var e = await Assert.ThrowsAsync<HcsException>(() => Within(duplicate.StartAsync(Bound)));
        Assert.Contains("exists", e.Message, StringComparison.Ordinal);
        await AssertUntouchedAsync(first, running, id);
        await duplicate.DisposeAsync();
        await AssertUntouchedAsync(first, running, id);
    }

    [Theory]
    [InlineData("-rf")]
    [InlineData("--help")]
    [InlineData("--root")]
    [InlineData("--state")]
    public async Task AnIdBeginningWithADash_CreatesStartsPausesRunsAndTerminates_TouchingNothingElse(string id)
    {
        var backend = NewBackend();
        var bystanderId = NewId("bystander");
        var bystander = await StartedAsync(backend, bystanderId);

        var sink = new RecordingSink();
        var system = await Within(backend.CreateAsync(new BackendSystemContext(id, RuncBackendFixture.Document(), sink, TimeProvider.System), Bound));
        _systems.Add(system);
        Assert.Equal(id, Path.GetFileName(sink.FactsJson.GetProperty("runtimeDirectory").GetString()));
        await Within(system.StartAsync(Bound));
        Assert.Equal("running", await backend.RuncStatusAsync(id, CancellationToken.None));
        Assert.Equal(("dash\n", 0), await ShAsync(system, "echo dash"));
        await Within(system.PauseAsync(null, Bound));
        Assert.Equal("paused", await backend.RuncStatusAsync(id, CancellationToken.None));
        await Within(system.ResumeAsync(Bound));
        await Within(system.ModifyAsync(new ModifySettingRequest { ResourcePath = "Container/Memory/SizeInMB", RequestType = ModifyRequestType.Update, Settings = System.Text.Json.JsonSerializer.SerializeToElement(256) }, Bound));

        await Within(system.TerminateAsync(Bound));
        await system.DisposeAsync();
        Assert.Null(await backend.RuncStatusAsync(id, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_root, id)), "its runtime directory is removed");
        Assert.Equal(bystanderId, OnlyRuntimeName());
        await AssertUntouchedAsync(backend, bystander, bystanderId);
    }

    [Theory]
    [InlineData("-orphan")]
    [InlineData("--state")]
    public async Task CleanOrphans_RemovesAnOrphanWhoseIdBeginsWithADash_AndFindsItsMonitor(string id)
    {
        var orphan = await StartedAsync(NewBackend(), id);
        await orphan.DetachAsync();

        // killRunning: a live orphan is otherwise left running and reported (a restart never kills what it lost the
        // record of); this asks the sweep to end it, which needs its monitor found by its option pairs.
        var lines = await Within(NewBackend().CleanOrphansAsync(new HashSet<string>(), killRunning: true, Bound));
        var line = Assert.Single(lines);
        Assert.Contains($"'{id}'", line, StringComparison.Ordinal);
        Assert.Contains("runc state: running", line, StringComparison.Ordinal);
        Assert.DoesNotContain("monitor: none", line, StringComparison.Ordinal);
        Assert.Null(await NewBackend().RuncStatusAsync(id, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(_root, id)), "its runtime directory is removed");
    }

    [Fact]
    public async Task Adopt_OfAContainerWithAHashedName_FindsItUnderTheSameName()
    {
        Requires.Containers();
        var id = NewId("adopt-" + new string('y', 80));
        var sink = new RecordingSink();
        var system = await Within(NewBackend().CreateAsync(new BackendSystemContext(id, RuncBackendFixture.Document(), sink, TimeProvider.System), Bound));
        await Within(system.StartAsync(Bound));
        await system.DetachAsync();
        var name = OnlyRuntimeName();
        Assert.Equal(name, sink.FactsJson.GetProperty("containerId").GetString());

        var adoption = await Within(NewBackend().AdoptAsync(new BackendAdoptContext(id, RuncBackendFixture.Document(), new RecordingSink(), TimeProvider.System, sink.Facts!), Bound));
        _systems.Add(adoption.System!);
        Assert.Equal(SystemState.Running, adoption.State);
        await AssertUntouchedAsync(NewBackend(), adoption.System!, name);
    }
}
