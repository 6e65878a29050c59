// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// The result document of a failed call or operation (schema <c>ResultError</c>):
/// the HRESULT, its message, error events and, since 2.4, attribution records.
/// </summary>
public sealed record ResultError
{
    /// <summary>The HRESULT of the failure.</summary>
    public int Error { get; init; }

    /// <summary>Human-readable message; for <c>HCS_E_INVALID_JSON</c> it names the JSON path and the reason.</summary>
    public string? ErrorMessage { get; init; }

    /// <summary>Details of the failure, innermost last.</summary>
    public IReadOnlyList<ErrorEvent>? ErrorEvents { get; init; }

    /// <summary>Who or what caused the failure (2.4).</summary>
    public IReadOnlyList<AttributionRecord>? Attribution { get; init; }

    /// <summary>A result error with the documented message of <paramref name="hr"/> and one event carrying <paramref name="detail"/>.</summary>
    public static ResultError From(int hr, string? detail = null, string? source = null) => new()
    {
        Error = hr,
        ErrorMessage = detail is null ? HResults.MessageOf(hr) : $"{HResults.MessageOf(hr)} {detail}",
        ErrorEvents = detail is null ? null : [new ErrorEvent { Message = detail, Source = source ?? "hcs" }],
    };
}

/// <summary>One diagnostic event attached to a <see cref="ResultError"/> (schema <c>ErrorEvent</c>).</summary>
public sealed record ErrorEvent
{
    /// <summary>Message text.</summary>
    public string? Message { get; init; }
    /// <summary>Stack trace, when known.</summary>
    public string? StackTrace { get; init; }
    /// <summary>Provider GUID.</summary>
    public Guid? Provider { get; init; }
    /// <summary>Event id.</summary>
    public ushort? EventId { get; init; }
    /// <summary>Flags.</summary>
    public uint? Flags { get; init; }
    /// <summary>Component that raised the event.</summary>
    public string? Source { get; init; }
    /// <summary>Typed values.</summary>
    public IReadOnlyList<EventData>? Data { get; init; }
}

/// <summary>A typed value of an <see cref="ErrorEvent"/> (schema <c>EventData</c>).</summary>
public sealed record EventData
{
    /// <summary>The value's type.</summary>
    public EventDataType? Type { get; init; }
    /// <summary>The value, as a string.</summary>
    public string? Value { get; init; }
}

/// <summary>Schema <c>EventDataType</c>.</summary>
public enum EventDataType
{
    /// <summary>No type.</summary>
    Empty,
    /// <summary>String.</summary>
    String,
    /// <summary>ANSI string.</summary>
    AnsiString,
    /// <summary>Signed byte.</summary>
    SByte,
    /// <summary>Byte.</summary>
    Byte,
    /// <summary>16-bit signed.</summary>
    Int16,
    /// <summary>16-bit unsigned.</summary>
    UInt16,
    /// <summary>32-bit signed.</summary>
    Int32,
    /// <summary>32-bit unsigned.</summary>
    UInt32,
    /// <summary>64-bit signed.</summary>
    Int64,
    /// <summary>64-bit unsigned.</summary>
    UInt64,
    /// <summary>Single.</summary>
    Single,
    /// <summary>Double.</summary>
    Double,
    /// <summary>Boolean.</summary>
    Boolean,
    /// <summary>Binary.</summary>
    Binary,
    /// <summary>GUID.</summary>
    Guid,
}
