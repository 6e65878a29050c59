// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Hcs.Schema;

/// <summary>
/// Strict JSON reading and writing of HCS schema documents, using source-generated metadata (NativeAOT-safe).
/// Reading checks member names, JSON kinds, ranges, enum names, required members, duplicates, schema-version
/// gating and the semantic rules of the document; every failure is an <see cref="HcsException"/> with
/// <c>HCS_E_INVALID_JSON</c> whose message names the JSON path and the reason.
/// </summary>
public static class HcsJson
{
    private static readonly JsonDocumentOptions s_documentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    /// <summary>The schema version assumed when a document omits <c>SchemaVersion</c> (2.1).</summary>
    public static Version DefaultSchemaVersion { get; } = new() { Major = 2, Minor = 1 };

    /// <summary>The oldest supported schema version (2.0).</summary>
    public static Version MinimumSchemaVersion { get; } = new() { Major = 2, Minor = 0 };

    /// <summary>The newest supported schema version (2.5).</summary>
    public static Version MaximumSchemaVersion { get; } = new() { Major = 2, Minor = 5 };

    /// <summary>True if <paramref name="version"/> is between <see cref="MinimumSchemaVersion"/> and <see cref="MaximumSchemaVersion"/>.</summary>
    public static bool IsSupportedSchemaVersion(Version version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return IsSupportedSchemaVersion(version.Major, version.Minor);
    }

    /// <summary>Parses <paramref name="json"/> as <typeparamref name="T"/>; any problem is <c>HCS_E_INVALID_JSON</c> naming the JSON path.</summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="json">The document.</param>
    public static T Deserialize<T>(string json) where T : class => Deserialize<T>(json, schemaVersion: null);

    /// <summary>
    /// Parses <paramref name="json"/> as <typeparamref name="T"/>, also rejecting members newer than
    /// <paramref name="schemaVersion"/> (e.g. the SchemaVersion of the system a modify request targets).
    /// </summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="json">The document.</param>
    /// <param name="schemaVersion">Schema version in force; null disables gating unless the document carries its own SchemaVersion.</param>
    public static T Deserialize<T>(string json, Version? schemaVersion) where T : class
    {
        ArgumentNullException.ThrowIfNull(json);
        using var document = Parse(json);
        return Bind<T>(document.RootElement, JsonPath.Root, schemaVersion);
    }

    /// <summary>
    /// Binds an already-parsed value (e.g. <see cref="ModifySettingRequest.Settings"/>) as <typeparamref name="T"/>,
    /// with the same checks; error paths start at <paramref name="path"/> (e.g. <c>$.Settings</c>).
    /// </summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="element">The value.</param>
    /// <param name="path">JSON path of <paramref name="element"/>, for messages.</param>
    /// <param name="schemaVersion">Schema version in force; null disables gating.</param>
    public static T Deserialize<T>(JsonElement element, string path = JsonPath.Root, Version? schemaVersion = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(path);
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            throw HcsException.InvalidJson(path, "the document is missing");
        }

        try
        {
            return Bind<T>(element, path, schemaVersion);
        }
        catch (InvalidOperationException) when (JsonSyntaxLocator.FindInvalidString(element.GetRawText(), s_documentOptions) is { } invalid)
        {
            // An element parsed elsewhere may hold an escaped lone surrogate: report it like Parse does.
            throw HcsException.InvalidJson(path + invalid.Path[1..], invalid.Reason);
        }
    }

    /// <summary>Like <see cref="Deserialize{T}(string)"/>, but a null, empty or blank document yields null.</summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="json">The document, or null.</param>
    public static T? DeserializeOptional<T>(string? json) where T : class =>
        string.IsNullOrWhiteSpace(json) ? null : Deserialize<T>(json);

    /// <summary>Parses a create document and checks its semantic rules (exactly one of Container/VirtualMachine/HostedSystem, SchemaVersion).</summary>
    /// <param name="json">The document.</param>
    public static ComputeSystem ParseComputeSystem(string json) => Deserialize<ComputeSystem>(json);

    /// <summary>Serialises <paramref name="value"/> as compact JSON, omitting null members.</summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="value">The document.</param>
    public static string Serialize<T>(T value)
    {
        try
        {
            return JsonSerializer.Serialize(value, TypeInfo<T>());
        }
        catch (JsonException e)
        {
            throw HcsException.InvalidJson(JsonPath.Root, e.Message);
        }
    }

    /// <summary>Serialises <paramref name="value"/> to a <see cref="JsonElement"/> (e.g. for <see cref="ModifySettingRequest.Settings"/>).</summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="value">The document.</param>
    public static JsonElement SerializeToElement<T>(T value)
    {
        try
        {
            return JsonSerializer.SerializeToElement(value, TypeInfo<T>());
        }
        catch (JsonException e)
        {
            throw HcsException.InvalidJson(JsonPath.Root, e.Message);
        }
    }

    /// <summary>Checks a document built in code exactly as if it had been received as JSON.</summary>
    /// <typeparam name="T">A schema document type.</typeparam>
    /// <param name="value">The document.</param>
    public static void Validate<T>(T value) where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        using var document = JsonDocument.Parse(Serialize(value), s_documentOptions);
        Bind<T>(document.RootElement, JsonPath.Root, schemaVersion: null);
    }

    internal static bool IsSupportedSchemaVersion(uint major, uint minor) =>
        major == MinimumSchemaVersion.Major && minor >= MinimumSchemaVersion.Minor && minor <= MaximumSchemaVersion.Minor;

    internal static string UnsupportedVersionReason(uint major, uint minor)
    {
        var supported = $"this service supports {MinimumSchemaVersion}–{MaximumSchemaVersion}";
        return major == 1
            ? $"unsupported SchemaVersion {major}.{minor}: schema 1 documents are not supported; {supported}"
            : $"unsupported SchemaVersion {major}.{minor}: {supported}";
    }

    private static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)SchemaShapeChecker.TypeInfoFor(typeof(T));

    /// <summary>
    /// The one place a document's text becomes a tree. Lone UTF-16 surrogates, raw or escaped, cannot become strings:
    /// they are refused here with their path, so nothing past this point meets one.
    /// </summary>
    private static JsonDocument Parse(string json)
    {
        var text = JsonSyntaxLocator.EscapeLoneSurrogates(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, s_documentOptions);
        }
        catch (JsonException)
        {
            var (path, reason) = JsonSyntaxLocator.Locate(text, s_documentOptions);
            throw HcsException.InvalidJson(path, reason);
        }

        if (JsonSyntaxLocator.MayHoldEscapedSurrogate(text) && JsonSyntaxLocator.FindInvalidString(text, s_documentOptions) is { } invalid)
        {
            document.Dispose();
            throw HcsException.InvalidJson(invalid.Path, invalid.Reason);
        }

        return document;
    }

    private static T Bind<T>(JsonElement element, string path, Version? schemaVersion) where T : class
    {
        SchemaGate? gate = null;
        if (schemaVersion is not null)
        {
            if (!IsSupportedSchemaVersion(schemaVersion))
            {
                throw HcsException.InvalidJson(path, UnsupportedVersionReason(schemaVersion.Major, schemaVersion.Minor));
            }

            gate = new SchemaGate(schemaVersion.Major, schemaVersion.Minor, Implicit: false);
        }

        var info = TypeInfo<T>();
        SchemaShapeChecker.Check(element, typeof(T), path, gate);
        T? value;
        try
        {
            value = element.Deserialize(info);
        }
        catch (JsonException e)
        {
            // The shape check should have caught everything; keep the path of anything it missed.
            var at = e.Path is null ? path : path + e.Path[1..];
            throw HcsException.InvalidJson(at, JsonSyntaxLocator.Clean(e.Message));
        }

        if (value is null)
        {
            throw HcsException.InvalidJson(path, "the document is null");
        }

        SchemaRules.Validate(value, path);
        return value;
    }
}
