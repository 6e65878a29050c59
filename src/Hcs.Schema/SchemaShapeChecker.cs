// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Hcs.Schema;

/// <summary>
/// Checks a parsed JSON tree against the source-generated contract of a schema type before it is bound:
/// member names (exact case, no unknown, no duplicates), JSON kinds, integer ranges, enum names, GUID and
/// date-time syntax, required members, nulls, and schema-version gating (<see cref="SchemaSinceAttribute"/>).
/// Every failure is <c>HCS_E_INVALID_JSON</c> naming the offending path.
/// </summary>
internal static class SchemaShapeChecker
{
    private static readonly ConcurrentDictionary<Type, ObjectShape> s_shapes = new();

    /// <summary>Checks <paramref name="element"/> as a value of <paramref name="type"/> located at <paramref name="path"/>.</summary>
    /// <param name="element">The JSON value.</param>
    /// <param name="type">The schema type it must match.</param>
    /// <param name="path">JSON path of the value, for messages.</param>
    /// <param name="gate">Schema version in force for version gating; null disables gating.</param>
    public static void Check(JsonElement element, Type type, string path, SchemaGate? gate)
    {
        if (element.ValueKind == JsonValueKind.Null)
        {
            throw HcsException.InvalidJson(path, $"the document is null; expected {Expected(type)}");
        }

        CheckValue(element, type, path, gate, nullAllowed: false);
    }

    /// <summary>The generated metadata of <paramref name="type"/>.</summary>
    public static JsonTypeInfo TypeInfoFor(Type type) =>
        HcsJsonContext.Default.GetTypeInfo(type)
        ?? throw new NotSupportedException($"{type.Name} is not an HCS schema type known to {nameof(HcsJsonContext)}.");

    private static void CheckValue(JsonElement e, Type type, string path, SchemaGate? gate, bool nullAllowed)
    {
        if (type == typeof(JsonElement) || type == typeof(JsonElement?))
        {
            return;
        }

        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (e.ValueKind == JsonValueKind.Null)
        {
            if (nullAllowed)
            {
                return;
            }

            throw HcsException.InvalidJson(path, $"expected {Expected(underlying)}, got null");
        }

        var info = TypeInfoFor(underlying);
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                CheckObject(e, info, path, gate);
                break;
            case JsonTypeInfoKind.Enumerable:
                CheckArray(e, info, path, gate);
                break;
            case JsonTypeInfoKind.Dictionary:
                CheckMap(e, info, path, gate);
                break;
            default:
                CheckLeaf(e, underlying, info, path);
                break;
        }
    }

    private static void CheckObject(JsonElement e, JsonTypeInfo info, string path, SchemaGate? gate)
    {
        var shape = s_shapes.GetOrAdd(info.Type, static (_, i) => ObjectShape.Build(i), info);
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw HcsException.InvalidJson(path, $"expected an object ({shape.Name}), got {JsonPath.KindOf(e.ValueKind)}");
        }

        if (shape.HasSchemaVersion)
        {
            gate = ReadSchemaVersion(e, path, gate);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var member in e.EnumerateObject())
        {
            var memberPath = JsonPath.Member(path, member.Name);
            if (!seen.Add(member.Name))
            {
                throw HcsException.InvalidJson(memberPath, $"duplicate member '{ErrorText.Truncate(member.Name)}'");
            }

            if (!shape.Members.TryGetValue(member.Name, out var meta))
            {
                throw HcsException.InvalidJson(memberPath, UnknownMember(shape, member.Name));
            }

            if (gate is { } g && meta.Since is { } since && !g.AtLeast(since.Major, since.Minor))
            {
                throw HcsException.InvalidJson(memberPath,
                    $"{shape.Name}.{meta.Name} requires SchemaVersion {since.Major}.{since.Minor} or later, but the document's SchemaVersion is {g}");
            }

            CheckValue(member.Value, meta.Type, memberPath, gate, meta.NullAllowed);
        }

        foreach (var required in shape.Required)
        {
            if (!seen.Contains(required))
            {
                throw HcsException.InvalidJson(JsonPath.Member(path, required), $"required member '{required}' is missing");
            }
        }
    }

    private static SchemaGate ReadSchemaVersion(JsonElement e, string path, SchemaGate? enclosing)
    {
        if (!e.TryGetProperty("SchemaVersion", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            // A nested document without its own version (HostedSystem) inherits the enclosing one.
            return enclosing ?? new SchemaGate(HcsJson.DefaultSchemaVersion.Major, HcsJson.DefaultSchemaVersion.Minor, Implicit: true);
        }

        var versionPath = JsonPath.Member(path, "SchemaVersion");
        CheckValue(element, typeof(Version), versionPath, gate: null, nullAllowed: false);
        var major = element.GetProperty("Major").GetUInt32();
        var minor = element.GetProperty("Minor").GetUInt32();
        if (!HcsJson.IsSupportedSchemaVersion(major, minor))
        {
            throw HcsException.InvalidJson(versionPath, HcsJson.UnsupportedVersionReason(major, minor));
        }

        return new SchemaGate(major, minor, Implicit: false);
    }

    private static string UnknownMember(ObjectShape shape, string name)
    {
        var reason = $"unknown member '{ErrorText.Truncate(name)}' of {shape.Name}";
        foreach (var candidate in shape.Members.Keys)
        {
            if (string.Equals(candidate, name, StringComparison.OrdinalIgnoreCase))
            {
                return $"{reason} (member names are case-sensitive: did you mean '{candidate}'?)";
            }
        }

        return reason;
    }

    private static void CheckArray(JsonElement e, JsonTypeInfo info, string path, SchemaGate? gate)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw HcsException.InvalidJson(path, $"expected an array, got {JsonPath.KindOf(e.ValueKind)}");
        }

        var elementType = info.ElementType!;
        var index = 0;
        foreach (var item in e.EnumerateArray())
        {
            CheckValue(item, elementType, JsonPath.Index(path, index++), gate, nullAllowed: false);
        }
    }

    private static void CheckMap(JsonElement e, JsonTypeInfo info, string path, SchemaGate? gate)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw HcsException.InvalidJson(path, $"expected an object (a map), got {JsonPath.KindOf(e.ValueKind)}");
        }

        var valueType = info.ElementType!;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in e.EnumerateObject())
        {
            var entryPath = JsonPath.Member(path, entry.Name);
            if (!seen.Add(entry.Name))
            {
                throw HcsException.InvalidJson(entryPath, $"duplicate key '{ErrorText.Truncate(entry.Name)}'");
            }

            CheckValue(entry.Value, valueType, entryPath, gate, nullAllowed: false);
        }
    }

    private static void CheckLeaf(JsonElement e, Type type, JsonTypeInfo info, string path)
    {
        if (type == typeof(string))
        {
            Expect(e, JsonValueKind.String, path);
        }
        else if (type == typeof(bool))
        {
            if (e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw HcsException.InvalidJson(path, $"expected a boolean, got {JsonPath.KindOf(e.ValueKind)}");
            }
        }
        else if (type == typeof(Guid))
        {
            Expect(e, JsonValueKind.String, path);
            if (!e.TryGetGuid(out _))
            {
                throw HcsException.InvalidJson(path,
                    $"'{ErrorText.Truncate(e.GetString())}' is not a valid GUID (expected xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
            }
        }
        else if (type == typeof(DateTimeOffset) || type == typeof(DateTime))
        {
            Expect(e, JsonValueKind.String, path);
            if (!e.TryGetDateTimeOffset(out _))
            {
                throw HcsException.InvalidJson(path,
                    $"'{ErrorText.Truncate(e.GetString())}' is not a valid date-time (expected RFC 3339, e.g. 2024-01-31T12:00:00Z)");
            }
        }
        else if (type.IsEnum)
        {
            var names = (IHcsEnumNames)info.Converter;
            if (e.ValueKind != JsonValueKind.String)
            {
                throw HcsException.InvalidJson(path,
                    $"expected a string naming a {names.EnumName} value, got {JsonPath.KindOf(e.ValueKind)}");
            }

            var name = e.GetString()!;
            if (!names.IsDefinedName(name))
            {
                throw HcsException.InvalidJson(path,
                    $"unknown value '{ErrorText.Truncate(name)}' for {names.EnumName} (expected one of {string.Join(", ", names.Names)})");
            }
        }
        else if (NumberRange.TryGet(type, out var range))
        {
            Expect(e, JsonValueKind.Number, path);
            if (!range.Fits(e))
            {
                var raw = ErrorText.Truncate(e.GetRawText());
                throw HcsException.InvalidJson(path, raw.AsSpan().IndexOfAny(".eE") >= 0
                    ? $"expected an integer ({range.Name}), got {raw}"
                    : $"value {raw} is out of range for {range.Name} ({range.Min}–{range.Max})");
            }
        }
    }

    private static void Expect(JsonElement e, JsonValueKind kind, string path)
    {
        if (e.ValueKind != kind)
        {
            throw HcsException.InvalidJson(path, $"expected {JsonPath.KindOf(kind)}, got {JsonPath.KindOf(e.ValueKind)}");
        }
    }

    private static string Expected(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(JsonElement))
        {
            return "a value";
        }

        var info = TypeInfoFor(underlying);
        return info.Kind switch
        {
            JsonTypeInfoKind.Object => $"an object ({underlying.Name})",
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Dictionary => "an object (a map)",
            _ when underlying == typeof(bool) => "a boolean",
            _ when NumberRange.TryGet(underlying, out _) => "a number",
            _ => "a string",
        };
    }

    /// <summary>Members of one schema object type, cached.</summary>
    private sealed class ObjectShape
    {
        private ObjectShape(string name, Dictionary<string, MemberShape> members, string[] required)
        {
            Name = name;
            Members = members;
            Required = required;
            HasSchemaVersion = members.TryGetValue("SchemaVersion", out var sv) && sv.Type == typeof(Version);
        }

        public string Name { get; }

        public Dictionary<string, MemberShape> Members { get; }

        public string[] Required { get; }

        public bool HasSchemaVersion { get; }

        public static ObjectShape Build(JsonTypeInfo info)
        {
            var members = new Dictionary<string, MemberShape>(StringComparer.Ordinal);
            var required = new List<string>();
            foreach (var property in info.Properties)
            {
                var since = property.AttributeProvider?
                    .GetCustomAttributes(typeof(SchemaSinceAttribute), inherit: false)
                    .OfType<SchemaSinceAttribute>()
                    .FirstOrDefault();
                members[property.Name] = new MemberShape(property.Name, property.PropertyType, property.IsSetNullable, since);
                if (property.IsRequired)
                {
                    required.Add(property.Name);
                }
            }

            return new ObjectShape(info.Type.Name, members, [.. required]);
        }
    }

    private sealed record MemberShape(string Name, Type Type, bool NullAllowed, SchemaSinceAttribute? Since);
}

/// <summary>The schema version in force while checking a document; <see cref="Implicit"/> when SchemaVersion was omitted.</summary>
/// <param name="Major">Major version.</param>
/// <param name="Minor">Minor version.</param>
/// <param name="Implicit">SchemaVersion was omitted and the default applies.</param>
internal readonly record struct SchemaGate(uint Major, uint Minor, bool Implicit)
{
    /// <summary>True if this version is at least <paramref name="major"/>.<paramref name="minor"/>.</summary>
    public bool AtLeast(uint major, uint minor) => Major > major || (Major == major && Minor >= minor);

    /// <inheritdoc/>
    public override string ToString() => Implicit ? $"{Major}.{Minor} (the default when SchemaVersion is omitted)" : $"{Major}.{Minor}";
}
