// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Hcs.Shim.Protocol;

/// <summary>
/// The wire form: UTF-8 JSON, one object per line, camelCase members, nulls left out. Unknown members are ignored; a
/// missing member without a default, or a null where none is allowed, makes a line unreadable (<see cref="JsonException"/>).
/// </summary>
public static class ShimCodec
{
    private static ShimJsonContext Json => ShimJsonContext.Default;

    /// <summary>A request as one line (ending with <c>\n</c>).</summary>
    public static byte[] Encode(ShimRequest request) => Line(request, Json.ShimRequest);

    /// <summary>A reply as one line (ending with <c>\n</c>).</summary>
    public static byte[] Encode(ShimReply reply) => Line(reply, Json.ShimReply);

    /// <summary>An event (or an exit record: the same line) as one line (ending with <c>\n</c>).</summary>
    public static byte[] Encode(ShimEvent message) => Line(message, Json.ShimEvent);

    /// <summary>The monitor's start line (ending with <c>\n</c>).</summary>
    public static byte[] Encode(MonitorStarted started) => Line(started, Json.MonitorStarted);

    /// <summary>
    /// Reads a request line (without its <c>\n</c>). On failure returns null and the <see cref="ShimErrorCodes.BadRequest"/>
    /// reply to send, with the request's id when the line had one.
    /// </summary>
    public static ShimRequest? DecodeRequest(ReadOnlySpan<byte> line, out ErrorReply? error)
    {
        error = null;
        try
        {
            if (JsonSerializer.Deserialize(line, Json.ShimRequest) is { } request)
            {
                return request;
            }

            error = new ErrorReply(0, "invalid request: null", ShimErrorCodes.BadRequest);
            return null;
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            // NotSupportedException: no "op" at all (the abstract base cannot be made).
            var head = TryHead(line);
            var what = head is null ? "invalid request: " + e.Message
                : head.Op is null ? "invalid request: no 'op'"
                : head.Op is "hello" or "exec" or "signal" or "resize" ? $"invalid '{head.Op}' request: {e.Message}"
                : $"unknown op '{head.Op}'";
            error = new ErrorReply(head?.Id ?? 0, what, ShimErrorCodes.BadRequest);
            return null;
        }
    }

    /// <summary>
    /// Says what a line from the monitor (without its <c>\n</c>) is: an event (decoded), or the reply to request
    /// <see cref="MonitorLine.ReplyId"/> (decode it with <see cref="DecodeReply{TReply}"/>).
    /// </summary>
    /// <exception cref="JsonException">Not a line of this protocol.</exception>
    public static MonitorLine DecodeFromMonitor(ReadOnlySpan<byte> line)
    {
        var head = JsonSerializer.Deserialize(line, Json.MonitorLineHead) ?? throw new JsonException("not an object");
        if (head.Event is not null)
        {
            return new MonitorLine(JsonSerializer.Deserialize(line, Json.ShimEvent), null);
        }

        return head.Id is { } id ? new MonitorLine(null, id) : throw new JsonException("neither an event nor a reply");
    }

    /// <summary>Reads a reply line: a <typeparamref name="TReply"/>, or an <see cref="ErrorReply"/> when it has a <c>code</c>.</summary>
    /// <exception cref="JsonException">Neither.</exception>
    public static ShimReply DecodeReply<TReply>(ReadOnlySpan<byte> line)
        where TReply : ShimReply
    {
        var head = JsonSerializer.Deserialize(line, Json.MonitorLineHead) ?? throw new JsonException("not an object");
        ShimReply? reply = head.Code is not null ? JsonSerializer.Deserialize(line, Json.ErrorReply)
            : typeof(TReply) == typeof(HelloReply) ? JsonSerializer.Deserialize(line, Json.HelloReply)
            : typeof(TReply) == typeof(ExecReply) ? JsonSerializer.Deserialize(line, Json.ExecReply)
            : typeof(TReply) == typeof(OkReply) ? JsonSerializer.Deserialize(line, Json.OkReply)
            : typeof(TReply) == typeof(ErrorReply) ? JsonSerializer.Deserialize(line, Json.ErrorReply)
            : throw new ArgumentException($"{typeof(TReply).Name} is not a reply of this protocol");
        return reply ?? throw new JsonException("null reply");
    }

    /// <summary>Reads a start line of the monitor.</summary>
    /// <exception cref="JsonException">Not one.</exception>
    public static MonitorStarted DecodeStarted(ReadOnlySpan<byte> line) =>
        JsonSerializer.Deserialize(line, Json.MonitorStarted) ?? throw new JsonException("null start line");

    /// <summary>Reads an exit record (<c>exit/PID.json</c>), with or without its <c>"event":"exit"</c> member.</summary>
    /// <exception cref="JsonException">Not one.</exception>
    public static ProcessExit? DecodeExitRecord(ReadOnlySpan<byte> record) => JsonSerializer.Deserialize(record, Json.ProcessExit);

    private static RequestHead? TryHead(ReadOnlySpan<byte> line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, Json.RequestHead);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static byte[] Line<T>(T value, JsonTypeInfo<T> type)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, value, type);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>What a line from the monitor is (<see cref="ShimCodec.DecodeFromMonitor"/>): an event, or a reply to a request.</summary>
/// <param name="Event">The event, or null for a reply.</param>
/// <param name="ReplyId">The id of the request answered, or null for an event.</param>
public readonly record struct MonitorLine(ShimEvent? Event, long? ReplyId);

/// <summary>The members that say what a line from the monitor is.</summary>
internal sealed record MonitorLineHead(long? Id = null, string? Event = null, string? Code = null);

/// <summary>The members of a request that can still be read when the request as a whole cannot.</summary>
internal sealed record RequestHead(long Id = 0, string? Op = null);

/// <summary>The one source-generated (reflection-free, trimming-safe) serializer context of the shim protocol.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    AllowOutOfOrderMetadataProperties = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ShimRequest))]
[JsonSerializable(typeof(ShimReply))]
[JsonSerializable(typeof(HelloReply))]
[JsonSerializable(typeof(ExecReply))]
[JsonSerializable(typeof(OkReply))]
[JsonSerializable(typeof(ErrorReply))]
[JsonSerializable(typeof(ShimEvent))]
[JsonSerializable(typeof(ProcessExit))]
[JsonSerializable(typeof(MonitorStarted))]
[JsonSerializable(typeof(MonitorLineHead))]
[JsonSerializable(typeof(RequestHead))]
internal sealed partial class ShimJsonContext : JsonSerializerContext;
