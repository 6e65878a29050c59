// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using System.Text.Json;
using Hcs.Shim.Protocol;

namespace Hcs.Shim.Tests;

/// <summary>Every message of the shim protocol survives its trip over the wire; a few lines are pinned byte for byte.</summary>
public sealed class ProtocolRoundTripTests
{
    private static readonly DateTimeOffset s_time = new(2026, 12, 3, 7, 40, 0, 123, TimeSpan.Zero);

    public static TheoryData<ShimRequest> Requests() =>
    [
        new HelloRequest(1, ShimProtocol.ProtocolVersion),
        new HelloRequest(long.MaxValue, 99),
        new ExecRequest(2, "/run/hcs/c/exec/1.json", false, "/run/hcs/c/exec/1-in.sock", "/run/hcs/c/exec/1-out.sock", "/run/hcs/c/exec/1-err.sock"),
        new ExecRequest(3, "/p.json", true, null, "/o.sock", null),
        new ExecRequest(4, "/p.json"),
        new SignalRequest(5, 4321, 15),
        new ResizeRequest(6, 4321, 40, 120),
    ];

    public static TheoryData<ShimReply> Replies() =>
    [
        new HelloReply(1, ShimProtocol.ProtocolVersion, 1234, true),
        new HelloReply(2, 7, 1, false),
        new ExecReply(3, 4321, 7),
        new OkReply(4),
        new ErrorReply(5, "exec: \"nope\": executable file not found in $PATH", ShimErrorCodes.ExecFailed),
        new ErrorReply(0, "invalid request", ShimErrorCodes.BadRequest),
        new ErrorReply(6, "versions", ShimErrorCodes.VersionMismatch) { Version = 3 },
    ];

    public static TheoryData<ShimEvent> Events() =>
    [
        new InitReadyEvent(1234),
        new ProcessExit(4321, 3),
        new ProcessExit(4321, 137, 9, 7, s_time),
        new ProcessExit(1, 0, null, 1, s_time),
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public void Request_RoundTrips(ShimRequest request)
    {
        var line = ShimCodec.Encode(request);
        Assert.Equal((byte)'\n', line[^1]);
        Assert.DoesNotContain((byte)'\n', line[..^1]);
        var back = ShimCodec.DecodeRequest(line.AsSpan(0, line.Length - 1), out var error);
        Assert.Null(error);
        Assert.Equal(request, back);
    }

    [Theory]
    [MemberData(nameof(Replies))]
    public void Reply_RoundTrips(ShimReply reply)
    {
        var line = ShimCodec.Encode(reply);
        var kind = ShimCodec.DecodeFromMonitor(Body(line));
        Assert.Equal(new MonitorLine(null, reply.Id), kind);
        var back = reply switch
        {
            HelloReply => ShimCodec.DecodeReply<HelloReply>(Body(line)),
            ExecReply => ShimCodec.DecodeReply<ExecReply>(Body(line)),
            OkReply => ShimCodec.DecodeReply<OkReply>(Body(line)),
            _ => ShimCodec.DecodeReply<ExecReply>(Body(line)), // an error reply comes back whatever was expected
        };
        Assert.Equal(reply, back);
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Event_RoundTrips(ShimEvent message)
    {
        var line = ShimCodec.Encode(message);
        Assert.Equal(new MonitorLine(message, null), ShimCodec.DecodeFromMonitor(Body(line)));
    }

    [Theory]
    [InlineData(true, 1234, null)]
    [InlineData(false, null, "container_linux.go:380: starting container process caused: exec: \"x\"")]
    public void MonitorStarted_RoundTrips(bool ready, int? initPid, string? error)
    {
        var started = new MonitorStarted(ready, initPid, error);
        Assert.Equal(started, ShimCodec.DecodeStarted(Body(ShimCodec.Encode(started))));
    }

    [Fact]
    public void ExitRecord_IsTheEventLine_AndReadsBack()
    {
        var exit = new ProcessExit(4321, 137, 9, 7, s_time);
        var line = ShimCodec.Encode(exit);
        Assert.Equal(exit, ShimCodec.DecodeExitRecord(line));
    }

    [Fact]
    public void Golden_Requests()
    {
        Assert.Equal("{\"op\":\"hello\",\"id\":1,\"version\":1}\n", Text(ShimCodec.Encode(new HelloRequest(1, 1))));
        Assert.Equal("{\"op\":\"exec\",\"id\":2,\"spec\":\"/abs/process.json\",\"tty\":false,\"stdout\":\"/abs/s1.sock\"}\n",
            Text(ShimCodec.Encode(new ExecRequest(2, "/abs/process.json", false, null, "/abs/s1.sock"))));
        Assert.Equal("{\"op\":\"signal\",\"id\":3,\"pid\":4321,\"signal\":15}\n", Text(ShimCodec.Encode(new SignalRequest(3, 4321, 15))));
        Assert.Equal("{\"op\":\"resize\",\"id\":4,\"pid\":4321,\"rows\":40,\"cols\":120}\n", Text(ShimCodec.Encode(new ResizeRequest(4, 4321, 40, 120))));
    }

    [Fact]
    public void Golden_RepliesAndEvents()
    {
        Assert.Equal("{\"id\":1,\"version\":1,\"initPid\":1234,\"ready\":true}\n", Text(ShimCodec.Encode(new HelloReply(1, 1, 1234, true))));
        Assert.Equal("{\"id\":1,\"pid\":4321,\"nsPid\":7}\n", Text(ShimCodec.Encode(new ExecReply(1, 4321, 7))));
        Assert.Equal("{\"id\":2}\n", Text(ShimCodec.Encode(new OkReply(2))));
        Assert.Equal("{\"id\":3,\"error\":\"gone\",\"code\":\"exited\"}\n", Text(ShimCodec.Encode(new ErrorReply(3, "gone", ShimErrorCodes.Exited))));
        Assert.Equal("{\"event\":\"ready\",\"pid\":1234}\n", Text(ShimCodec.Encode(new InitReadyEvent(1234))));
        Assert.Equal("{\"event\":\"exit\",\"pid\":4321,\"status\":3,\"nsPid\":0}\n", Text(ShimCodec.Encode(new ProcessExit(4321, 3))));
        Assert.Equal("{\"event\":\"exit\",\"pid\":4321,\"status\":137,\"signal\":9,\"nsPid\":7,\"time\":\"2026-12-03T07:40:00.123+00:00\"}\n",
            Text(ShimCodec.Encode(new ProcessExit(4321, 137, 9, 7, s_time))));
        Assert.Equal("{\"ready\":true,\"initPid\":1234}\n", Text(ShimCodec.Encode(new MonitorStarted(true, 1234))));
        Assert.Equal("{\"ready\":false,\"error\":\"no\"}\n", Text(ShimCodec.Encode(new MonitorStarted(false, Error: "no"))));
    }

    [Fact]
    public void UnknownMembers_AreIgnored_AndOpMayComeLast()
    {
        var request = ShimCodec.DecodeRequest("{\"id\":3,\"pid\":5,\"signal\":15,\"future\":{\"a\":[1]},\"op\":\"signal\"}"u8, out var error);
        Assert.Null(error);
        Assert.Equal(new SignalRequest(3, 5, 15), request);
        Assert.Equal(new ExecReply(1, 2, 3), ShimCodec.DecodeReply<ExecReply>("{\"id\":1,\"pid\":2,\"nsPid\":3,\"later\":true}"u8));
        Assert.Equal(new MonitorLine(new InitReadyEvent(9), null), ShimCodec.DecodeFromMonitor("{\"pid\":9,\"x\":null,\"event\":\"ready\"}"u8));
    }

    [Fact]
    public void OptionalMembers_TakeTheirDefaults()
    {
        Assert.Equal(new ExecRequest(2, "/p.json"), ShimCodec.DecodeRequest("{\"op\":\"exec\",\"id\":2,\"spec\":\"/p.json\"}"u8, out _));
        Assert.Equal(new ProcessExit(5, 3), ShimCodec.DecodeExitRecord("{\"pid\":5,\"status\":3}"u8));
    }

    [Theory]
    [InlineData("{\"op\":\"signal\",\"id\":3,\"pid\":5}", 3, "invalid 'signal' request")]
    [InlineData("{\"op\":\"exec\",\"id\":4,\"spec\":null}", 4, "invalid 'exec' request")]
    [InlineData("{\"op\":\"exec\",\"id\":5,\"tty\":true}", 5, "invalid 'exec' request")]
    [InlineData("{\"op\":\"resize\",\"id\":6,\"pid\":\"five\",\"rows\":1,\"cols\":1}", 6, "invalid 'resize' request")]
    [InlineData("{\"op\":\"bogus\",\"id\":7}", 7, "unknown op 'bogus'")]
    [InlineData("{\"op\":\"ping\",\"id\":8}", 8, "unknown op 'ping'")]
    [InlineData("{\"id\":9}", 9, "invalid request: no 'op'")]
    [InlineData("not json", 0, "invalid request: ")]
    [InlineData("[1,2]", 0, "invalid request: ")]
    [InlineData("null", 0, "invalid request: null")]
    public void BadRequests_AreAnsweredWithBadRequest_AndTheirIdWhenItCanBeRead(string line, long id, string message)
    {
        Assert.Null(ShimCodec.DecodeRequest(Encoding.UTF8.GetBytes(line), out var error));
        Assert.NotNull(error);
        Assert.Equal(id, error.Id);
        Assert.Equal(ShimErrorCodes.BadRequest, error.Code);
        Assert.StartsWith(message, error.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"id\":1,\"pid\":2}")] // an exec reply without nsPid
    [InlineData("{\"id\":1,\"error\":\"x\",\"code\":null}")]
    public void Replies_WithMissingMembers_AreUnreadable(string line)
    {
        Assert.ThrowsAny<JsonException>(() => ShimCodec.DecodeReply<ExecReply>(Encoding.UTF8.GetBytes(line)));
    }

    [Theory]
    [InlineData("{\"pid\":1}")]
    [InlineData("{\"event\":\"mystery\",\"pid\":1}")]
    [InlineData("{\"event\":\"exit\",\"pid\":1}")]
    [InlineData("[]")]
    public void MonitorLines_ThatAreNeitherEventNorReply_AreUnreadable(string line)
    {
        Assert.ThrowsAny<JsonException>(() => ShimCodec.DecodeFromMonitor(Encoding.UTF8.GetBytes(line)));
    }

    [Fact]
    public void ExitRecord_OfAVersion0Monitor_StillReads()
    {
        // What monitors wrote before the protocol had a version: no "event", an explicit null signal, millisecond UTC time.
        var record = "{\"pid\":4321,\"nsPid\":7,\"status\":3,\"signal\":null,\"time\":\"2026-12-03T07:40:00.123Z\"}\n"u8;
        Assert.Equal(new ProcessExit(4321, 3, null, 7, s_time), ShimCodec.DecodeExitRecord(record));
    }

    [Fact]
    public void ReadRecord_ReadsTheFileOfThatPid_AndNothingElse()
    {
        var state = Directory.CreateTempSubdirectory("hcs-shim-records-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(state, ShimProtocol.ExitDirectoryName));
            var exit = new ProcessExit(41, 0, null, 1, s_time);
            File.WriteAllBytes(ProcessExit.RecordPath(state, 41), ShimCodec.Encode(exit));
            File.WriteAllBytes(ProcessExit.RecordPath(state, 42), ShimCodec.Encode(exit)); // names another pid
            File.WriteAllText(ProcessExit.RecordPath(state, 43), "{\"pid\":43,\"sta"); // torn
            Assert.Equal(Path.Combine(state, "exit", "41.json"), ProcessExit.RecordPath(state, 41));
            Assert.Equal(exit, ProcessExit.ReadRecord(state, 41));
            Assert.Null(ProcessExit.ReadRecord(state, 42));
            Assert.Null(ProcessExit.ReadRecord(state, 43));
            Assert.Null(ProcessExit.ReadRecord(state, 44));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Theory]
    [InlineData(0x0000, 0, null)]
    [InlineData(0x0300, 3, null)]
    [InlineData(0xff00, 255, null)]
    [InlineData(9, 137, 9)]
    [InlineData(15, 143, 15)]
    [InlineData(0x80 | 6, 134, 6)] // killed by SIGABRT with a core dump
    public void FromWaitStatus_DecodesExitCodesAndSignals(int raw, int status, int? signal)
    {
        var exit = ProcessExit.FromWaitStatus(10, raw);
        Assert.Equal(new ProcessExit(10, status, signal), exit);
        Assert.Equal(signal is { } s ? $"killed by signal {s}" : $"exit status {status}", exit.Describe());
    }

    private static ReadOnlySpan<byte> Body(byte[] line) => line.AsSpan(0, line.Length - 1);

    private static string Text(byte[] line) => Encoding.UTF8.GetString(line);
}
