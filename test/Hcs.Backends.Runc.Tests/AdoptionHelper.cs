// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// The separate process of the kill -9 test: creates and starts container ID in RUNTIME_ROOT with its own
/// <see cref="RuncBackend"/>, runs <c>sleep 300</c> in it, prints the runtime facts as one line and waits to be killed.
/// </summary>
internal static class AdoptionHelper
{
    public const string Verb = "--adoption-helper";

    public static async Task<int> RunAsync(string runtimeRoot, string id)
    {
        var backend = new RuncBackend(new RuncSettings { RuntimeRoot = runtimeRoot, CgroupParent = RuncAdoptionTests.CgroupParent });
        var sink = new RecordingSink();
        var system = await backend.CreateAsync(new BackendSystemContext(id, RuncBackendFixture.Document(), sink, TimeProvider.System), CancellationToken.None);
        await system.StartAsync(CancellationToken.None);
        await ((IBackendProcessHost)system).CreateProcessAsync(new ProcessParameters { CommandArgs = ["sleep", "300"] }, new ProcessSink(), CancellationToken.None);
        await Console.Out.WriteLineAsync(sink.Facts);
        await Console.Out.FlushAsync();
        await Task.Delay(Timeout.Infinite);
        return 0;
    }
}
