// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Builds a <see cref="ScriptedQmpServer"/> conversation in code, for collaborators of <see cref="QemuSystem"/> tested
/// without a VM: QEMU 7.2's greeting and capabilities negotiation (as recorded in Transcripts/lifecycle.qmp), then the
/// commands the collaborator must send, each with QEMU's reply, and events.
/// </summary>
internal sealed class QmpScript
{
    private const string Greeting =
        """S: {"QMP":{"version":{"qemu":{"micro":22,"minor":2,"major":7},"package":"Debian 1:7.2+dfsg-7+deb12u18+b3"},"capabilities":["oob"]}}""";

    private readonly List<string> _lines = [Greeting, """C: {"execute":"qmp_capabilities","id":1}""", """S: {"return":{},"id":1}"""];
    private int _id = 1;

    /// <summary>The client must send <paramref name="command"/> with <paramref name="arguments"/>; QEMU answers <paramref name="reply"/> (a <c>return</c> value, default <c>{}</c>).</summary>
    public QmpScript Command(string command, JsonObject? arguments = null, JsonNode? reply = null)
    {
        var id = ++_id;
        var sent = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            sent["arguments"] = arguments;
        }

        _lines.Add("C: " + sent.ToJsonString());
        _lines.Add("S: " + new JsonObject { ["return"] = reply ?? new JsonObject(), ["id"] = id }.ToJsonString());
        return this;
    }

    /// <summary>The client must send <paramref name="command"/>; QEMU answers with an error of <paramref name="errorClass"/>.</summary>
    public QmpScript Error(string command, JsonObject? arguments, string errorClass, string description)
    {
        var id = ++_id;
        var sent = new JsonObject { ["execute"] = command, ["id"] = id };
        if (arguments is not null)
        {
            sent["arguments"] = arguments;
        }

        _lines.Add("C: " + sent.ToJsonString());
        _lines.Add("S: " + new JsonObject { ["error"] = new JsonObject { ["class"] = errorClass, ["desc"] = description }, ["id"] = id }.ToJsonString());
        return this;
    }

    /// <summary>QEMU sends a line as is (an event, recorded or written in QEMU 7.2's shape).</summary>
    public QmpScript Send(string json)
    {
        _lines.Add("S: " + json);
        return this;
    }

    /// <summary>QEMU sends event <paramref name="name"/> with <paramref name="data"/>, at 2025-11-25T10:00:00.123456Z.</summary>
    public QmpScript Event(string name, JsonObject? data = null)
    {
        var e = new JsonObject { ["timestamp"] = new JsonObject { ["seconds"] = 1764064800, ["microseconds"] = 123456 }, ["event"] = name };
        if (data is not null)
        {
            e["data"] = data;
        }

        return Send(e.ToJsonString());
    }

    /// <summary>QEMU closes the connection (EOF).</summary>
    public QmpScript End()
    {
        _lines.Add("S: <EOF>");
        return this;
    }

    /// <summary>The server for this conversation.</summary>
    public ScriptedQmpServer Server(Func<JsonObject, Task>? onReceived = null) => new(_lines) { OnReceived = onReceived };

    /// <summary>The timestamp of <see cref="Event"/>.</summary>
    public static DateTimeOffset EventTime => DateTimeOffset.FromUnixTimeSeconds(1764064800).AddTicks(1234560);
}

/// <summary>A <see cref="FakeTimeProvider"/> that tells when a timer (a <c>Task.Delay</c>) was created, and with which due time.</summary>
internal sealed class TimerWatchingTime : FakeTimeProvider
{
    private readonly SemaphoreSlim _created = new(0);
    private readonly List<TimeSpan> _dueTimes = [];

    public TimerWatchingTime()
        : base(DateTimeOffset.FromUnixTimeSeconds(1764064800))
    {
    }

    /// <summary>The due time of every timer created so far.</summary>
    public IReadOnlyList<TimeSpan> DueTimes
    {
        get
        {
            lock (_dueTimes)
            {
                return [.. _dueTimes];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_dueTimes)
        {
            _dueTimes.Add(dueTime);
        }

        _created.Release();
        return timer;
    }

    /// <summary>Waits until the next timer has been created (one per call, in creation order).</summary>
    public Task WaitForTimerAsync(CancellationToken cancellationToken) => _created.WaitAsync(cancellationToken);
}
