// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Contracts;
using Microsoft.Extensions.Time.Testing;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Daemon.Tests;

/// <summary>What the daemon adds to the engine: peers and their uids, per-connection handles, errors on the wire.</summary>
public sealed class DaemonBehaviourTests : IAsyncLifetime
{
    private const uint Nobody = 65534;
    private readonly DaemonFakeFixture _fixture = new();

    public ValueTask InitializeAsync()
    {
        _ = _fixture.Service; // starts the daemon
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Socket_IsReadableAndWritableByOwnerAndGroupOnly()
    {
        var mode = File.GetUnixFileMode(_fixture.Socket);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, mode);
    }

    [Fact]
    public void Connect_AsAUserOutsideTheSocketsGroup_IsRefusedByTheKernel()
    {
        var e = Assert.Throws<SocketException>(() => PeerIdentity.ConnectAs(_fixture.Socket, Nobody, Nobody));

        Assert.Equal(SocketError.AccessDenied, e.SocketErrorCode);
    }

    [Fact]
    public async Task ASystem_IsOpenableByItsCreatorsUidAndRootOnly_UntilRootGrantsAccess()
    {
        await using var nobody = ConnectAs(Nobody);
        var rootClient = _fixture.Connect("root");
        var id = _fixture.NewId("owned");
        await using var created = await rootClient.Session.CreateSystemAsync(id, _fixture.VmDocument("idle"), Ct);
        await created.WaitForCreatedAsync(Ct);

        var denied = await Assert.ThrowsAsync<HcsException>(() => nobody.Session.OpenSystemAsync(id, Ct));
        Assert.Equal(HResults.HCS_E_ACCESS_DENIED, denied.HResult);
        Assert.DoesNotContain(id, await nobody.Session.EnumerateSystemsAsync(null, Ct), StringComparison.Ordinal);
        var notOwner = await Assert.ThrowsAsync<HcsException>(() => nobody.Session.GrantAccessAsync(id, Nobody, Ct));
        Assert.Equal(HResults.HCS_E_SYSTEM_NOT_FOUND, notOwner.HResult);

        await rootClient.Session.GrantAccessAsync(id, Nobody, Ct);

        await using var opened = await nobody.Session.OpenSystemAsync(id, Ct);
        Assert.Contains(id, await nobody.Session.EnumerateSystemsAsync(null, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASystemCreatedByAUser_IsOwnedByTheUidTheKernelReported()
    {
        await using var nobody = ConnectAs(Nobody);
        var id = _fixture.NewId("nobodys");
        await using var created = await nobody.Session.CreateSystemAsync(id, _fixture.VmDocument("idle"), Ct);
        await created.WaitForCreatedAsync(Ct);

        // Another uid (not root) sees nothing; the engine recorded 65534, not the name or pid the client sent.
        var other = _fixture.Engine.OpenSession(new ClientIdentity("other", 1000));
        var e = await Assert.ThrowsAsync<HcsException>(() => other.OpenSystemAsync(id, Ct));
        Assert.Equal(HResults.HCS_E_ACCESS_DENIED, e.HResult);
        Assert.Contains($"belongs to uid {Nobody}", e.Result.ErrorMessage, StringComparison.Ordinal);
        await other.DisposeAsync();
    }

    [Fact]
    public async Task Errors_CrossTheWire_AsTheSameHresultLabelIdAndResultError()
    {
        var id = _fixture.NewId("bad");
        const string Bad = """{"SchemaVersion":{"Major":2,"Minor":1},"VirtualMachine":{"Chipset":7}}""";
        var local = _fixture.Engine.OpenSession(new ClientIdentity("local"));
        var inProcess = await Assert.ThrowsAsync<HcsException>(() => local.CreateSystemAsync(id, Bad, Ct));
        await local.DisposeAsync();

        var remote = await Assert.ThrowsAsync<HcsException>(() => _fixture.Connect().Session.CreateSystemAsync(id, Bad, Ct));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, remote.HResult);
        Assert.Equal(inProcess.Message, remote.Message);
        Assert.Equal(inProcess.Operation, remote.Operation);
        Assert.Equal(inProcess.SystemId, remote.SystemId);
        Assert.Equal(HcsJson.Serialize(inProcess.Result), HcsJson.Serialize(remote.Result));
    }

    [Fact]
    public async Task TwoClientsOnOneSystem_EachGetEveryEventExactlyOnce()
    {
        var id = _fixture.NewId("shared");
        var first = await ComputeSystem.CreateAsync(_fixture.Connect("first"), id, _fixture.VmDocument("poweroff:300"), Ct);
        var second = await ComputeSystem.OpenAsync(_fixture.Connect("second"), id, Ct);
        var firstEvents = Collect(first);
        var secondEvents = Collect(second);

        await first.StartAsync(Ct);
        await first.WaitForExitAsync(Ct);
        await second.WaitForExitAsync(Ct);
        await first.DisposeAsync();
        await second.DisposeAsync();

        Assert.Equal([HcsEventType.SystemExited], await firstEvents);
        Assert.Equal([HcsEventType.SystemExited], await secondEvents);
    }

    [Fact]
    public async Task AClientsConnectionDropping_ClosesItsHandles_AndTheLastCloseTerminatesTheSystem()
    {
        var id = _fixture.NewId("orphaned");
        var watcher = await ComputeSystem.CreateAsync(_fixture.Connect("watcher"), id, _fixture.VmDocument("idle"), Ct);
        await watcher.StartAsync(Ct);
        var dying = RemoteService.Connect(_fixture.Socket);
        var dyingClient = HcsClient.Connect(dying, "dying");
        var terminating = await ComputeSystem.CreateAsync(dyingClient, _fixture.NewId("tolc"),
            _fixture.VmDocument("idle", terminateOnLastHandleClosed: true), Ct);
        await terminating.StartAsync(Ct);
        var fake = _fixture.Backend.Get(terminating.Id);

        await dying.DisposeAsync(); // the connection goes, as when the client process dies; nothing is closed politely

        await WaitUntilAsync(() => fake.IsDead, "the system whose only handle was on the lost connection to be terminated");
        Assert.Equal(SystemState.Running, (await watcher.GetPropertiesAsync(cancellationToken: Ct)).State);
        await watcher.TerminateAsync(Ct);
    }

    [Fact]
    public async Task AClientDyingInsideAPendingStart_LeavesTheSystemConsistentAndUsable()
    {
        // The engine runs on a fake clock here, so the Start stays in the backend until the test moves the clock.
        var clock = new FakeTimeProvider();
        await using var clocked = new DaemonFakeFixture(engineTime: clock);
        var id = clocked.NewId("midstart");
        clocked.Backend.Script(id, new FakeScript { StartDelay = TimeSpan.FromHours(1) });
        await using var watcher = await ComputeSystem.CreateAsync(clocked.Connect("watcher"), id, clocked.VmDocument("idle"), Ct);
        var dying = RemoteService.Connect(clocked.Socket);
        var handle = await HcsClient.Connect(dying, "dying").Session.OpenSystemAsync(id, Ct);
        var start = handle.StartAsync(null, Ct);
        await clocked.StartArrivedAsync(id);

        await dying.DisposeAsync(); // the connection goes while the Start is in the backend, as when the client dies

        var e = await Assert.ThrowsAsync<HcsException>(() => start);
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
        // hcsd cancelled the Start on the dead client's behalf, as its token would have in process: the system is back
        // in Created, not stuck half-started, and another client can start it (had the first Start gone on, this one
        // would queue behind it and find the system already running).
        var second = watcher.StartAsync(Ct);
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!second.IsCompleted && bound.Elapsed < TimeSpan.FromSeconds(30))
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            await Task.WhenAny(second, Task.Delay(1, Ct));
        }

        await second;
        Assert.Equal(SystemState.Running, (await watcher.GetPropertiesAsync(cancellationToken: Ct)).State);
        Assert.Equal(2, clocked.Backend.Get(id).StartCalls);
        await watcher.TerminateAsync(Ct);
    }

    private HcsClient ConnectAs(uint uid) =>
        HcsClient.Connect(RemoteService.Connect(_fixture.Socket, _ => ValueTask.FromResult(PeerIdentity.ConnectAs(_fixture.Socket, uid, 0))), $"uid{uid}");

    private static async Task<List<HcsEventType>> Collect(ComputeSystem system)
    {
        var types = new List<HcsEventType>();
        await foreach (var e in system.EventsAsync())
        {
            types.Add(e.Type);
        }

        return types;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting for {what}");
            }
        }
    }
}
