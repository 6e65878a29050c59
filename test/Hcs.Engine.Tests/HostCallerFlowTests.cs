// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>
/// The engine makes a session's client the <see cref="HostCaller.Current"/> of every backend call it causes (Create,
/// Modify, Save), so a backend uses host paths with that client's credentials; a root session has none.
/// </summary>
public sealed class HostCallerFlowTests
{
    [Fact]
    public async Task ANonRootSession_IsTheHostCaller_OfBackendCreateModifyAndSave()
    {
        var seen = await RunAsync(new ClientIdentity("t", 65534, 0, 65534, [50]));

        foreach (var verb in (string[])["Create", "Modify", "Save"])
        {
            Assert.True(seen.TryGetValue(verb, out var caller), $"{verb} was not called");
            Assert.Equal(65534u, caller!.Uid);
            Assert.Equal(65534u, caller.Gid);
            Assert.Equal([50u], caller.Groups);
        }
    }

    [Fact]
    public async Task ARootSession_HasNoHostCaller()
    {
        var seen = await RunAsync(new ClientIdentity("t", 0, 0, 0, []));

        Assert.Equal(["Create", "Modify", "Save"], seen.Keys.Order(StringComparer.Ordinal));
        Assert.All(seen.Values, Assert.Null);
    }

    private static async Task<ConcurrentDictionary<string, HostCaller?>> RunAsync(ClientIdentity client)
    {
        var backend = new RecordingBackend(new FakeBackend());
        await using var engine = new ComputeEngine([backend]);
        await using var session = engine.OpenSession(client);
        await using var system = await session.CreateSystemAsync("caller-" + client.Uid, FakeDocuments.Vm("idle"));
        await system.WaitForCreatedAsync();
        await system.StartAsync(null);
        await system.PauseAsync(null);
        await system.ModifyAsync("""{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Settings":256}""");
        await system.SaveAsync("""{"SaveType":"ToFile","SaveStateFilePath":"/nonexistent/state"}""");
        await system.TerminateAsync(null);
        return backend.Seen;
    }

    /// <summary>The fake backend, noting <see cref="HostCaller.Current"/> as each call reaches the backend.</summary>
    private sealed class RecordingBackend(FakeBackend inner) : IComputeBackend
    {
        public ConcurrentDictionary<string, HostCaller?> Seen { get; } = new(StringComparer.Ordinal);

        public string Name => inner.Name;

        public bool CanHost(ComputeSystem document) => inner.CanHost(document);

        public void Validate(ComputeSystem document) => inner.Validate(document);

        public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
        {
            Seen["Create"] = HostCaller.Current;
            return new RecordingSystem(await inner.CreateAsync(context, cancellationToken).ConfigureAwait(false), Seen);
        }
    }

    private sealed class RecordingSystem(IBackendSystem inner, ConcurrentDictionary<string, HostCaller?> seen) : IBackendSystem
    {
        public Task StartAsync(CancellationToken cancellationToken) => inner.StartAsync(cancellationToken);

        public Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken) => inner.RequestShutdownAsync(options, cancellationToken);

        public Task TerminateAsync(CancellationToken cancellationToken) => inner.TerminateAsync(cancellationToken);

        public Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken) => inner.PauseAsync(options, cancellationToken);

        public Task ResumeAsync(CancellationToken cancellationToken) => inner.ResumeAsync(cancellationToken);

        public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken)
        {
            seen["Save"] = HostCaller.Current;
            return Task.CompletedTask;
        }

        public Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken) => inner.CrashAsync(options, cancellationToken);

        public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
        {
            seen["Modify"] = HostCaller.Current;
            return Task.CompletedTask;
        }

        public Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken) =>
            inner.GetPropertiesAsync(types, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
