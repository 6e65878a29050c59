// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hcs.Schema;

/// <summary>
/// Reads and writes <typeparamref name="TEnum"/> as its exact member name: case-sensitive, no integers,
/// no numeric strings, no comma-separated combinations. Generic, so it is NativeAOT-safe.
/// </summary>
/// <typeparam name="TEnum">The schema enum.</typeparam>
internal sealed class HcsEnumConverter<TEnum> : JsonConverter<TEnum>, IHcsEnumNames
    where TEnum : struct, Enum
{
    private static readonly Dictionary<string, TEnum> s_byName = BuildNames();

    /// <inheritdoc/>
    public string EnumName => typeof(TEnum).Name;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => s_byName.Keys;

    /// <inheritdoc/>
    public bool IsDefinedName(string name) => s_byName.ContainsKey(name);

    /// <inheritdoc/>
    public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"expected a string naming a {typeof(TEnum).Name} value");
        }

        var name = reader.GetString()!;
        return s_byName.TryGetValue(name, out var value)
            ? value
            : throw new JsonException($"unknown value '{name}' for {typeof(TEnum).Name}");
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var name = Enum.GetName(value) ?? throw new JsonException($"{value} is not a defined {typeof(TEnum).Name} value");
        writer.WriteStringValue(name);
    }

    private static Dictionary<string, TEnum> BuildNames()
    {
        var names = new Dictionary<string, TEnum>(StringComparer.Ordinal);
        foreach (var value in Enum.GetValues<TEnum>())
        {
            names.TryAdd(Enum.GetName(value)!, value);
        }

        return names;
    }
}

/// <summary>Non-generic view of an <see cref="HcsEnumConverter{TEnum}"/>, used by the strict reader.</summary>
internal interface IHcsEnumNames
{
    /// <summary>The enum's type name.</summary>
    string EnumName { get; }

    /// <summary>The member names, in declaration order.</summary>
    IReadOnlyCollection<string> Names { get; }

    /// <summary>True if <paramref name="name"/> is exactly the name of a member.</summary>
    bool IsDefinedName(string name);
}
