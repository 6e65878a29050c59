// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Shim;

/// <summary>What the monitor reads from files runc and the engine write: runc's JSON log, an OCI process spec.</summary>
internal static class RuncFiles
{
    /// <summary>The <c>msg</c> of the last <c>"level":"error"</c> record of a runc JSON log, or null.</summary>
    public static string? LastRuncError(string logPath)
    {
        string? last = null;
        try
        {
            foreach (string line in File.ReadLines(logPath))
            {
                if (line.Length == 0 || line[0] != '{')
                {
                    continue;
                }

                try
                {
                    using var doc = JsonDocument.Parse(line);
                    if (doc.RootElement.TryGetProperty("level", out var level) && level.ValueKind == JsonValueKind.String &&
                        level.GetString() == "error" && doc.RootElement.TryGetProperty("msg", out var msg) && msg.ValueKind == JsonValueKind.String)
                    {
                        last = msg.GetString();
                    }
                }
                catch (JsonException)
                {
                    // A torn or foreign line: skip it.
                }
            }
        }
        catch (IOException)
        {
            return last;
        }

        return last;
    }

    /// <summary>consoleSize {height, width} of an OCI process JSON file, or null.</summary>
    public static (ushort Rows, ushort Cols)? ConsoleSize(string specPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(specPath));
            if (doc.RootElement.TryGetProperty("consoleSize", out var size) && size.ValueKind == JsonValueKind.Object &&
                size.TryGetProperty("height", out var h) && size.TryGetProperty("width", out var w) &&
                h.TryGetUInt16(out ushort rows) && w.TryGetUInt16(out ushort cols))
            {
                return (rows, cols);
            }
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
