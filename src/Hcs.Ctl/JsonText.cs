// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Hcs.Ctl;

/// <summary>Re-indents JSON documents received from the service for people, or folds them onto one line.</summary>
internal static class JsonText
{
    private static readonly JsonWriterOptions s_indented = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonWriterOptions s_compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Indent(string json) => Rewrite(json, s_indented);

    public static string Compact(string json) => Rewrite(json, s_compact);

    private static string Rewrite(string json, JsonWriterOptions options)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer, options))
            {
                document.WriteTo(writer);
            }

            return Encoding.UTF8.GetString(buffer.ToArray());
        }
        catch (JsonException)
        {
            return json; // Not ours to judge: show what the service sent.
        }
    }
}
