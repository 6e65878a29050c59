// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using Hcs.Engine.Backends;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// Start completes once the container's init handles SIGTERM (the monitor's <c>ready</c> event), so a shutdown request
/// right after Start is never discarded by the kernel.
/// </summary>
public sealed class RuncInitReadyTests : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly string _root = Path.Combine("/run/hcs-test", Guid.NewGuid().ToString("N")[..10]);

    public async ValueTask DisposeAsync()
    {
        await new RuncBackend(new RuncSettings { RuntimeRoot = _root, CgroupParent = RuncAdoptionTests.CgroupParent })
            .CleanOrphansAsync(new HashSet<string>(), killRunning: true, CancellationToken.None);
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Start_CompletesOnlyOnceTheInitHandlesSigterm_SoAShutDownRightAfterItEndsTheContainer()
    {
        Requires.Containers();
        var backend = new RuncBackend(new RuncSettings { RuntimeRoot = _root, CgroupParent = RuncAdoptionTests.CgroupParent });
        for (var round = 0; round < 3; round++)
        {
            var sink = new RecordingSink();
            var context = new BackendSystemContext("ready-" + round.ToString(CultureInfo.InvariantCulture), RuncBackendFixture.Document(), sink, TimeProvider.System);
            await using var system = await backend.CreateAsync(context, CancellationToken.None).WaitAsync(s_timeout);
            await system.StartAsync(CancellationToken.None).WaitAsync(s_timeout);

            var initPid = JsonDocument.Parse(sink.Silo!).RootElement.GetProperty("InitProcessId").GetInt32();
            var caught = File.ReadLines($"/proc/{initPid}/status").Single(l => l.StartsWith("SigCgt:", StringComparison.Ordinal))["SigCgt:".Length..].Trim();
            Assert.True((ulong.Parse(caught, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << 14)) != 0, "the init handles SIGTERM when Start completes");

            await system.RequestShutdownAsync(null, CancellationToken.None).WaitAsync(s_timeout);
            var exit = await sink.Stopped.WaitAsync(s_timeout);
            Assert.Equal(BackendExitCause.GuestPowerOff, exit.Cause);
        }
    }
}
