// Copyright (c) hcs contributors. Licensed under the MIT licence.

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
                        frames[^1].Name = reader.GetString();
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

        return (PathOf(frames), "malformed JSON");
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
