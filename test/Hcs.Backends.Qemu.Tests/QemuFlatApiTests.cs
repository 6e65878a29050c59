// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using Hcs.Client;
using Hcs.Schema;
using Xunit;
using static Hcs.Client.ComputeCore;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The computecore-shaped flat API on a real VM: operation callbacks and the exit through the handle callback.</summary>
public sealed class QemuFlatApiTests : IAsyncLifetime
{
    private readonly QemuBackendFixture _fixture = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public void EnableOperationCallbacks_OnARealVm_DeliversTheStartOperation_ThenTheGuestPowerOffAsSystemExited()
    {
        var client = _fixture.Connect("flat");
        using var scope = HcsClient.Use(client);
        var timeout = (uint)_fixture.Timeout.TotalMilliseconds;
        using var create = HcsCreateOperation(null, null);
        HcsException.ThrowIfFailed(HcsCreateComputeSystem("flat", _fixture.VmDocument("poweroff:300"), create, null, out var system));
        using var handle = system;
        HcsException.ThrowIfFailed(HcsWaitForOperationResult(create, timeout, out _));

        var events = new BlockingCollection<HcsEvent>();
        HcsException.ThrowIfFailed(HcsSetComputeSystemCallback(system, HcsEventOptions.EnableOperationCallbacks, null, (e, _) => events.Add(e)));
        using var start = HcsCreateOperation(null, null);
        HcsException.ThrowIfFailed(HcsStartComputeSystem(system, start, null));

        var ct = TestContext.Current.CancellationToken;
        Assert.True(events.TryTake(out var first, (int)_fixture.Timeout.TotalMilliseconds, ct), "no OperationCallback");
        Assert.Equal(HcsEventType.OperationCallback, first.Type);
        Assert.Same(start, first.Operation);
        HcsException.ThrowIfFailed(HcsGetOperationResult(start, out _));

        Assert.True(events.TryTake(out var exited, (int)_fixture.Timeout.TotalMilliseconds, ct), "no SystemExited");
        Assert.Equal(HcsEventType.SystemExited, exited.Type);
        var status = HcsJson.Deserialize<SystemExitStatus>(exited.EventData!);
        Assert.Equal(NotificationType.GracefulExit, status.ExitType);
        Assert.Equal(ExitInitiator.GuestOS, status.Attribution![0].SystemExit!.Initiator);
    }
}
