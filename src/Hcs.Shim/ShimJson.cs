// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hcs.Shim;

/// <summary>A control-socket request (docs/shim-protocol.md); fields an op does not use are left at their defaults.</summary>
internal sealed class ShimRequest
{
    public long Id { get; set; }

    public string? Op { get; set; }

    public string? Spec { get; set; }

    public bool Tty { get; set; }

    public string? Stdin { get; set; }

    public string? Stdout { get; set; }

    public string? Stderr { get; set; }

    public int Pid { get; set; }

    public int Signal { get; set; }

    public int Rows { get; set; }

    public int Cols { get; set; }
}

/// <summary>Source-generated (reflection-free) JSON for requests.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ShimRequest))]
internal sealed partial class ShimJsonContext : JsonSerializerContext;

/// <summary>How a process ended, as reported in events and exit records.</summary>
internal readonly record struct ExitStatus(int Status, int? Signal)
{
    /// <summary>Decodes a waitpid status: the exit code, or 128 + the signal number.</summary>
    public static ExitStatus FromWait(int raw)
    {
        int sig = raw & 0x7f;
        return sig == 0 ? new ExitStatus((raw >> 8) & 0xff, null) : new ExitStatus(128 + sig, sig);
    }

    public override string ToString() => Signal is int s ? $"killed by signal {s}" : $"exit status {Status}";
}

/// <summary>The shim's outgoing JSON lines, written by hand with <see cref="Utf8JsonWriter"/> (each ends with '\n').</summary>
internal static class ShimJson
{
    public static byte[] Ready(int initPid) => Line(w =>
    {
        w.WriteBoolean("ready", true);
        w.WriteNumber("initPid", initPid);
    });

    public static byte[] NotReady(string error) => Line(w =>
    {
        w.WriteBoolean("ready", false);
        w.WriteString("error", error);
    });

    public static byte[] Ok(long id) => Line(w => w.WriteNumber("id", id));

    public static byte[] Ping(long id, int initPid, bool initReady) => Line(w =>
    {
        w.WriteNumber("id", id);
        w.WriteNumber("initPid", initPid);
        w.WriteBoolean("ready", initReady);
    });

    public static byte[] InitReady(int initPid) => Line(w =>
    {
        w.WriteString("event", "ready");
        w.WriteNumber("pid", initPid);
    });

    public static byte[] Exec(long id, int pid, int nsPid) => Line(w =>
    {
        w.WriteNumber("id", id);
        w.WriteNumber("pid", pid);
        w.WriteNumber("nsPid", nsPid);
    });

    public static byte[] Error(long id, string code, string message) => Line(w =>
    {
        w.WriteNumber("id", id);
        w.WriteString("error", message);
        w.WriteString("code", code);
    });

    public static byte[] ExitEvent(int pid, ExitStatus exit) => Line(w =>
    {
        w.WriteString("event", "exit");
        w.WriteNumber("pid", pid);
        w.WriteNumber("status", exit.Status);
        if (exit.Signal is int s)
        {
            w.WriteNumber("signal", s);
        }
    });

    public static byte[] ExitRecord(int pid, int nsPid, ExitStatus exit, DateTimeOffset time) => Line(w =>
    {
        w.WriteNumber("pid", pid);
        w.WriteNumber("nsPid", nsPid);
        w.WriteNumber("status", exit.Status);
        if (exit.Signal is int s)
        {
            w.WriteNumber("signal", s);
        }
        else
        {
            w.WriteNull("signal");
        }

        w.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
    });

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

    private static byte[] Line(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
