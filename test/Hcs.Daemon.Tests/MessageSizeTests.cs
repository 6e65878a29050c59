// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Protocol;

namespace Hcs.Daemon.Tests;

/// <summary>
/// Messages to and from hcsd are at most 4 MiB (<see cref="WireLimits"/>): a request over the limit fails at the
/// client, naming the limit, without being sent; a reply over it fails its call only (an error's text is cut and keeps
/// its HRESULT). Neither ends the session or closes its handles.
/// </summary>
public sealed class MessageSizeTests : IAsyncLifetime
{
    private const int Big = 5 * 1024 * 1024;
    private readonly DaemonFakeFixture _fixture = new();
    private readonly string _directory = DaemonFakeFixture.SearchableTempDirectory();
    private DaemonServer _oversized = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _ = _fixture.Service;
        _oversized = await DaemonServer.StartAsync(new OversizedService(), new DaemonOptions { Socket = Path.Combine(_directory, "big.sock") }, cancellationToken: Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _oversized.DisposeAsync();
        await _fixture.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ARequestOverTheMessageLimit_FailsThatCallNamingTheLimit_AndTheSessionAndItsHandlesCarryOn()
    {
        var session = _fixture.Connect("big-requests").Session;
        await using var handle = await session.CreateSystemAsync(_fixture.NewId("small"), _fixture.VmDocument("idle"), Ct);
        var document = new string(' ', Big) + _fixture.VmDocument("idle"); // a valid document, padded past the limit

        var create = await Assert.ThrowsAsync<HcsException>(() => session.CreateSystemAsync(_fixture.NewId("huge"), document, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));
        var wer = await Assert.ThrowsAsync<HcsException>(() => session.SubmitWerReportAsync(new string(' ', Big), Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));

        foreach (var (e, label) in new[] { (create, "ComputeSystem.Create"), (wer, "Service.SubmitWerReport") })
        {
            Assert.Equal(HResults.ERROR_MESSAGE_EXCEEDS_MAX_SIZE, e.HResult);
            Assert.Equal(label, e.Operation);
            Assert.Contains("4 MiB", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(SystemState.Created, HcsJson.Deserialize<Properties>(await handle.GetPropertiesAsync(null, Ct)).State);
        Assert.False(session.Disconnected.IsCancellationRequested);
    }

    [Fact]
    public async Task AReplyOverTheMessageLimit_FailsThatCallOnly_AndTheSessionCarriesOn()
    {
        await using var remote = RemoteService.Connect(_oversized.Socket);
        await using var session = remote.OpenSession(new ClientIdentity("big-replies"));

        var e = await Assert.ThrowsAsync<HcsException>(() => session.GetServicePropertiesAsync("big", Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));

        Assert.Equal(HResults.ERROR_MESSAGE_EXCEEDS_MAX_SIZE, e.HResult);
        Assert.Equal("Service.GetProperties", e.Operation);
        Assert.Contains("the reply is", e.Message, StringComparison.Ordinal);
        Assert.Contains("4 MiB", e.Message, StringComparison.Ordinal);
        Assert.Equal("{}", await session.GetServicePropertiesAsync(null, Ct));
        Assert.False(session.Disconnected.IsCancellationRequested);
    }

    [Fact]
    public async Task AnErrorReplyOverTheMessageLimit_KeepsItsHresult_WithItsTextCut_AndTheSessionCarriesOn()
    {
        await using var remote = RemoteService.Connect(_oversized.Socket);
        await using var session = remote.OpenSession(new ClientIdentity("big-errors"));

        var e = await Assert.ThrowsAsync<HcsException>(() => session.GetServicePropertiesAsync("error", Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Equal("Service.GetProperties", e.Operation);
        Assert.StartsWith("$.x: unknown member 'xxxx", e.Result.ErrorMessage![HResults.MessageOf(HResults.HCS_E_INVALID_JSON).Length..].TrimStart(), StringComparison.Ordinal);
        Assert.Contains("[cut: the error was", e.Message, StringComparison.Ordinal);
        Assert.InRange(e.Result.ErrorMessage.Length, 1, 70_000);
        Assert.Equal("{}", await session.GetServicePropertiesAsync(null, Ct));
    }

    /// <summary>A service whose answers are as large as a test asks (the real engine's are not, by design).</summary>
    private sealed class OversizedService : IComputeService
    {
        public IComputeSession OpenSession(ClientIdentity client) => new Session(client);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private sealed class Session(ClientIdentity client) : IComputeSession
        {
            public ClientIdentity Client => client;

            public CancellationToken Disconnected => CancellationToken.None;

            public Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default) => query switch
            {
                "big" => Task.FromResult($"{{\"x\":\"{new string('x', Big)}\"}}"),
                "error" => Task.FromException<string>(HcsException.InvalidJson("$.x", $"unknown member '{new string('x', Big)}'", "Service.GetProperties")),
                _ => Task.FromResult("{}"),
            };

            public Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default) => throw new NotSupportedException();

            public Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

            public Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default) => Task.FromResult("[]");

            public Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default) => throw new NotSupportedException();

            public Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default) => throw new NotSupportedException();

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
