// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The QMP client against conversations recorded from QEMU 7.2 (Debian 12), replayed in memory.</summary>
public sealed class QmpClientTranscriptTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lifecycle_HandshakeRepliesEventsAndQuitEndingInReset()
    {
        var server = ScriptedQmpServer.FromTranscript("lifecycle.qmp");
        var serving = server.RunAsync(Ct);
        await using var client = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        Assert.Equal((7, 2, 22), (client.Greeting.Major, client.Greeting.Minor, client.Greeting.Micro));
        Assert.Contains("oob", client.Greeting.Capabilities);

        Assert.Equal("prelaunch", (await client.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());
        await client.ExecuteAsync("cont", cancellationToken: Ct);
        Assert.Equal("RESUME", (await client.Events.ReadAsync(Ct)).Name);
        Assert.True((await client.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("running").GetBoolean());
        await client.ExecuteAsync("stop", cancellationToken: Ct);
        var stop = await client.Events.ReadAsync(Ct);
        Assert.Equal("STOP", stop.Name);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1764064800).AddTicks(1234560), stop.Timestamp);
        Assert.Equal("paused", (await client.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());

        await client.ExecuteAsync("quit", cancellationToken: Ct);
        var shutdown = await client.Events.ReadAsync(Ct);
        Assert.Equal("SHUTDOWN", shutdown.Name);
        Assert.Equal("host-qmp-quit", shutdown.Data!.Value.GetProperty("reason").GetString());
        Assert.Equal(QmpCloseReason.ConnectionReset, await client.Closed.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        await serving;
        Assert.Equal("qmp_capabilities", server.Received[0]["execute"]!.GetValue<string>());
    }

    [Fact]
    public async Task ErrorReplies_ThrowWithTheirClass_AndTheConnectionStaysUsable()
    {
        var server = ScriptedQmpServer.FromTranscript("errors.qmp");
        var serving = server.RunAsync(Ct);
        await using var client = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var notFound = await Assert.ThrowsAsync<QmpErrorException>(() => client.ExecuteAsync("no-such-command", cancellationToken: Ct));
        Assert.Equal("CommandNotFound", notFound.ErrorClass);
        var bad = await Assert.ThrowsAsync<QmpErrorException>(() => client.ExecuteAsync("inject-nmi", new JsonObject { ["bogus"] = 1 }, Ct));
        Assert.Equal("GenericError", bad.ErrorClass);
        var version = await client.ExecuteAsync("query-version", cancellationToken: Ct);
        Assert.Equal(7, version.GetProperty("qemu").GetProperty("major").GetInt32());
        await client.ExecuteAsync("quit", cancellationToken: Ct);
        await serving;
    }

    [Fact]
    public async Task Quit_WhoseReplyIsLostToEndOfStream_Succeeds_AndOtherPendingCommandsFail()
    {
        // The lifecycle recording cut after the SHUTDOWN event: QEMU closed before sending quit's return.
        var lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Transcripts", "lifecycle.qmp"))
            .Where(l => l.StartsWith("S: {\"QMP\"", StringComparison.Ordinal) || l.Contains("qmp_capabilities", StringComparison.Ordinal)
                || l == "S: {\"return\":{},\"id\":1}")
            .Concat(["C: {\"execute\":\"quit\",\"id\":2}", "S: {\"event\":\"SHUTDOWN\",\"data\":{\"guest\":false,\"reason\":\"host-qmp-quit\"}}", "S: <EOF>"]);
        var server = new ScriptedQmpServer(lines);
        var serving = server.RunAsync(Ct);
        await using var client = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        await client.ExecuteAsync("quit", cancellationToken: Ct);
        Assert.Equal(QmpCloseReason.EndOfStream, await client.Closed.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        await serving;
        await Assert.ThrowsAsync<QmpDisconnectedException>(() => client.ExecuteAsync("query-status", cancellationToken: Ct));
    }

    [Fact]
    public async Task RepliesWithUnknownIds_AreDropped_AndEventsBeforeTheReplyAreKept()
    {
        var server = new ScriptedQmpServer(
        [
            "S: {\"QMP\":{\"version\":{\"qemu\":{\"micro\":22,\"minor\":2,\"major\":7},\"package\":\"\"},\"capabilities\":[]}}",
            "C: {\"execute\":\"qmp_capabilities\",\"id\":1}",
            "S: {\"return\":{},\"id\":1}",
            "C: {\"execute\":\"stop\",\"id\":2}",
            "S: {\"return\":{\"stale\":true},\"id\":999}",
            "S: {\"error\":{\"class\":\"GenericError\",\"desc\":\"JSON parse error\"}}",
            "S: {\"event\":\"STOP\"}",
            "S: {\"return\":{},\"id\":2}",
            "S: <EOF>",
        ]);
        var serving = server.RunAsync(Ct);
        await using var client = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        var result = await client.ExecuteAsync("stop", cancellationToken: Ct);
        Assert.Empty(result.EnumerateObject());
        Assert.Equal("STOP", (await client.Events.ReadAsync(Ct)).Name);
        await serving;
    }

    [Fact]
    public async Task NotAGreeting_IsAProtocolError() =>
        await Assert.ThrowsAsync<QmpProtocolException>(async () =>
        {
            var server = new ScriptedQmpServer(["S: {\"hello\":1}", "S: <EOF>"]);
            var serving = server.RunAsync(Ct);
            await using var client = await QmpClient.ConnectAsync(server.ClientStream, Ct);
        });
}
