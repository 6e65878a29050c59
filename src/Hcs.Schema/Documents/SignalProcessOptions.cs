// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>
/// Schema <c>SignalProcessOptions</c>: the document of <c>HcsSignalProcess</c>. <see cref="Signal"/> is a
/// <see cref="ProcessSignal"/> name (Windows) or a POSIX signal number 1–64 (Linux).
/// </summary>
public sealed record SignalProcessOptions
{
    /// <summary>The signal: a JSON string naming a <see cref="ProcessSignal"/>, or a JSON number.</summary>
    public JsonElement? Signal { get; init; }

    /// <summary>Options carrying a named console signal.</summary>
    public static SignalProcessOptions Named(ProcessSignal signal) =>
        new() { Signal = JsonSerializer.SerializeToElement(signal, HcsJsonContext.Default.ProcessSignal) };

    /// <summary>Options carrying a POSIX signal number.</summary>
    public static SignalProcessOptions Posix(int signal) =>
        new() { Signal = JsonSerializer.SerializeToElement(signal, HcsJsonContext.Default.Int32) };

    /// <summary>True if <see cref="Signal"/> names a <see cref="ProcessSignal"/>.</summary>
    public bool TryGetNamedSignal(out ProcessSignal signal)
    {
        signal = default;
        return Signal is { ValueKind: JsonValueKind.String } s
            && Enum.TryParse(s.GetString(), ignoreCase: false, out signal)
            && Enum.GetName(signal) == s.GetString();
    }

    /// <summary>True if <see cref="Signal"/> is a number (a POSIX signal).</summary>
    public bool TryGetPosixSignal(out int signal)
    {
        signal = 0;
        return Signal is { ValueKind: JsonValueKind.Number } n && n.TryGetInt32(out signal);
    }
}

/// <summary>Schema <c>ProcessSignal</c>: console signals of Windows processes.</summary>
public enum ProcessSignal
{
    /// <summary>Ctrl+C.</summary>
    CtrlC,
    /// <summary>Ctrl+Break.</summary>
    CtrlBreak,
    /// <summary>Console closed.</summary>
    CtrlClose,
    /// <summary>User logging off.</summary>
    CtrlLogOff,
    /// <summary>System shutting down.</summary>
    CtrlShutdown,
}
