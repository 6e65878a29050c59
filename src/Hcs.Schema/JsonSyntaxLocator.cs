// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Finds where malformed JSON breaks: re-reads it token by token, tracking the JSON path.</summary>
internal static class JsonSyntaxLocator
{
    /// <summary>The path at which <paramref name="json"/> stops being valid JSON, and a reason naming line and column.</summary>
    public static (string Path, string Reason) Locate(string json, JsonDocumentOptions options)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return (JsonPath.Root, "malformed JSON: the document is empty");
        }

        return Walk(json, options, checkStrings: true) ?? (JsonPath.Root, "malformed JSON");
    }

    /// <summary>
    /// The path of the first string or member name of (syntactically valid) <paramref name="json"/> that is not valid
    /// Unicode (an escaped lone UTF-16 surrogate such as <c>\ud800</c>), with the reason; null when there is none.
    /// </summary>
    public static (string Path, string Reason)? FindInvalidString(string json, JsonDocumentOptions options) =>
        Walk(json, options, checkStrings: true);

    /// <summary>
    /// <paramref name="json"/> with every lone UTF-16 surrogate written as the <c>\uXXXX</c> escape it stands for
    /// (the same instance when there is none). UTF-8 cannot carry a lone surrogate: inside a string the escape is then
    /// found by <see cref="FindInvalidString"/>, anywhere else it is a syntax error, both with their JSON path.
    /// </summary>
    public static string EscapeLoneSurrogates(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        StringBuilder? escaped = null;
        var copied = 0;
        for (var i = 0; i < json.Length; i++)
        {
            var c = json[i];
            if (!char.IsSurrogate(c))
            {
                continue;
            }

            if (char.IsHighSurrogate(c) && i + 1 < json.Length && char.IsLowSurrogate(json[i + 1]))
            {
                i++;
                continue;
            }

            escaped ??= new StringBuilder(json.Length + 16);
            escaped.Append(json, copied, i - copied).Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            copied = i + 1;
        }

        return escaped is null ? json : escaped.Append(json, copied, json.Length - copied).ToString();
    }

    /// <summary>True if <paramref name="json"/> may hold an escaped surrogate (cheap test before <see cref="FindInvalidString"/>).</summary>
    public static bool MayHoldEscapedSurrogate(string json) =>
        json.Contains("\\ud", StringComparison.OrdinalIgnoreCase);

    private static (string Path, string Reason)? Walk(string json, JsonDocumentOptions options, bool checkStrings)
    {
        var frames = new List<Frame>();
        var utf8 = Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            AllowTrailingCommas = options.AllowTrailingCommas,
            CommentHandling = options.CommentHandling,
            MaxDepth = options.MaxDepth,
        });
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                    case JsonTokenType.StartArray:
                        Advance(frames);
                        frames.Add(new Frame(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        frames.RemoveAt(frames.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        if (TryGetString(ref reader, out var name))
                        {
                            frames[^1].Name = name;
                            break;
                        }

                        frames[^1].Name = null;
                        return (PathOf(frames), $"a member name {InvalidUnicode}");
                    case JsonTokenType.String:
                        Advance(frames);
                        if (checkStrings && reader.ValueIsEscaped && !TryGetString(ref reader, out _))
                        {
                            return (PathOf(frames), $"the string {InvalidUnicode}");
                        }

                        break;
                    default:
                        Advance(frames);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
            return (PathOf(frames), $"malformed JSON{where}: {Explain(e, utf8)}");
        }

        return null;
    }

    private const string InvalidUnicode = "is not valid Unicode: it holds a lone UTF-16 surrogate (e.g. \\ud800 without its pair)";

    private static bool TryGetString(ref Utf8JsonReader reader, out string? value)
    {
        try
        {
            value = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = null;
            return false;
        }
    }

    /// <summary>Strips the position suffix and option advice that System.Text.Json appends to messages.</summary>
    public static string Clean(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var marker in new[] { " LineNumber:", " Path:", " Change the reader options." })
        {
            var at = message.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                message = message[..at];
            }
        }

        return message.Trim();
    }

    private static string Explain(JsonException e, byte[] utf8)
    {
        var message = Clean(e.Message);
        if (message.Contains("trailing comma", StringComparison.Ordinal))
        {
            return "trailing commas are not allowed";
        }

        if (message.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
        {
            return "the document ends before every object and array is closed (truncated?)";
        }

        return ByteAt(utf8, e.LineNumber, e.BytePositionInLine) switch
        {
            (byte)'/' => "comments are not allowed",
            (byte)'\'' => "strings and member names must use double quotes",
            _ => message,
        };
    }

    private static byte? ByteAt(byte[] utf8, long? line, long? bytePosition)
    {
        if (line is null || bytePosition is null)
        {
            return null;
        }

        var start = 0;
        for (var i = 0L; i < line && start >= 0; i++)
        {
            var next = Array.IndexOf(utf8, (byte)'\n', start);
            start = next < 0 ? -1 : next + 1;
        }

        var at = start + bytePosition.Value;
        return start >= 0 && at < utf8.Length ? utf8[at] : null;
    }

    private static void Advance(List<Frame> frames)
    {
        if (frames.Count > 0 && frames[^1].IsArray)
        {
            frames[^1].Index++;
        }
    }

    private static string PathOf(List<Frame> frames)
    {
        var path = JsonPath.Root;
        foreach (var frame in frames)
        {
            if (frame.IsArray && frame.Index >= 0)
            {
                path = JsonPath.Index(path, frame.Index);
            }
            else if (!frame.IsArray && frame.Name is not null)
            {
                path = JsonPath.Member(path, frame.Name);
            }
        }

        return path;
    }

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public int Index { get; set; } = -1;

        public string? Name { get; set; }
    }
}
