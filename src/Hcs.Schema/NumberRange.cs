// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Hcs.Schema;

/// <summary>The JSON integer types of the schema, with their names and ranges for messages.</summary>
internal sealed class NumberRange
{
    private static readonly Dictionary<Type, NumberRange> s_ranges = new()
    {
        [typeof(byte)] = new("uint8", "0", "255", static e => e.TryGetByte(out _)),
        [typeof(sbyte)] = new("int8", "-128", "127", static e => e.TryGetSByte(out _)),
        [typeof(ushort)] = new("uint16", "0", "65535", static e => e.TryGetUInt16(out _)),
        [typeof(short)] = new("int16", "-32768", "32767", static e => e.TryGetInt16(out _)),
        [typeof(uint)] = new("uint32", "0", "4294967295", static e => e.TryGetUInt32(out _)),
        [typeof(int)] = new("int32", "-2147483648", "2147483647", static e => e.TryGetInt32(out _)),
        [typeof(ulong)] = new("uint64", "0", "18446744073709551615", static e => e.TryGetUInt64(out _)),
        [typeof(long)] = new("int64", "-9223372036854775808", "9223372036854775807", static e => e.TryGetInt64(out _)),
        [typeof(double)] = new("double", "-1.7976931348623157E+308", "1.7976931348623157E+308", static e => e.TryGetDouble(out _)),
    };

    private readonly Func<JsonElement, bool> _fits;

    private NumberRange(string name, string min, string max, Func<JsonElement, bool> fits)
    {
        Name = name;
        Min = min;
        Max = max;
        _fits = fits;
    }

    /// <summary>Schema name of the type, e.g. <c>uint32</c>.</summary>
    public string Name { get; }

    /// <summary>Smallest value, as text.</summary>
    public string Min { get; }

    /// <summary>Largest value, as text.</summary>
    public string Max { get; }

    /// <summary>The range of <paramref name="type"/>, if it is a schema number type.</summary>
    public static bool TryGet(Type type, [NotNullWhen(true)] out NumberRange? range) => s_ranges.TryGetValue(type, out range);

    /// <summary>True if the JSON number <paramref name="element"/> is representable in this type.</summary>
    public bool Fits(JsonElement element) => _fits(element);
}
