// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Ids against hcs's own names on the QEMU backend (docs/security.md, Ids): Create never clears a runtime directory
/// that is another VM's. Real QEMU, created and never started (paused at <c>-S</c>); one VM of the assembly at a time.
/// </summary>
public sealed class QemuIdTests : IAsyncLifetime
{
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qid-");
    private readonly List<IBackendSystem> _systems = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var system in _systems)
        {
            await system.DisposeAsync();
        }

        _run.Delete(recursive: true);
    }

    private QemuBackend NewBackend() => new(new QemuSettings(), _run.FullName);

    private static SchemaComputeSystem Document() => TestGuest.Document("idle");

    private async Task<IBackendSystem> CreateAsync(QemuBackend backend, string id)
    {
        var system = await backend.CreateAsync(new BackendSystemContext(id, Document(), new RecordingSink(), TimeProvider.System), Ct);
        _systems.Add(system);
        return system;
    }

    private static int PidIn(string run) => int.Parse(File.ReadAllText(Path.Combine(run, QemuCommandLine.PidFile)).Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task AnIdShapedLikeAHashedName_IsHashedItself_AndLeavesTheRuntimeDirectoryOfTheVmHashedToThatNameAlone()
    {
        var backend = NewBackend();
        var longId = "long-" + new string('x', 100);
        await CreateAsync(backend, longId);
        var run = QemuBackend.RuntimeDirectoryOf(_run.FullName, longId);
        var hashed = Path.GetFileName(run);
        Assert.Matches("^h-[0-9a-f]{24}$", hashed);
        var pid = PidIn(run);

        var shaped = await CreateAsync(backend, hashed);
        var own = QemuBackend.RuntimeDirectoryOf(_run.FullName, hashed);
        Assert.NotEqual(run, own);
        Assert.NotEqual(pid, PidIn(own));
        Assert.Equal(pid, PidIn(run));
        Assert.True(File.Exists(Path.Combine(run, QemuCommandLine.QmpSocket)), "the first VM's QMP socket is still there");
        Assert.True(ProcessStat.Read(pid) is { IsZombie: false }, "the first VM's QEMU still runs");

        _systems.Remove(shaped);
        await shaped.DisposeAsync();
        Assert.False(Directory.Exists(own));
        Assert.Equal(pid, PidIn(run));
        Assert.True(File.Exists(Path.Combine(run, QemuCommandLine.QmpSocket)));
    }

    [Fact]
    public async Task Create_WhenTheRuntimeDirectoryExists_IsRefused_AndRemovesNothing()
    {
        // Another VM's directory (a second service over this runtime root, say): Create must not clear it.
        var run = QemuBackend.RuntimeDirectoryOf(_run.FullName, "taken");
        Directory.CreateDirectory(run);
        var theirs = Path.Combine(run, QemuCommandLine.QemuLog);
        await File.WriteAllTextAsync(theirs, "theirs\n", Ct);

        var e = await Assert.ThrowsAsync<HcsException>(() => CreateAsync(NewBackend(), "taken"));
        Assert.Equal(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, e.HResult);
        Assert.Contains(run, e.Message, StringComparison.Ordinal);
        Assert.Equal("theirs\n", await File.ReadAllTextAsync(theirs, Ct));
        Assert.Equal([theirs], Directory.GetFileSystemEntries(run));
    }
}
