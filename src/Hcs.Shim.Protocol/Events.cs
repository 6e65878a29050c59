// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hcs.Shim.Protocol;

/// <summary>An event on the control socket (monitor → engine), one JSON line; <c>event</c> says which. Events carry no id.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(InitReadyEvent), "ready")]
[JsonDerivedType(typeof(ProcessExit), "exit")]
public abstract record ShimEvent;

/// <summary>
/// The container's init is ready: it has installed its SIGTERM handler (before, the kernel discards a SIGTERM to it).
/// Sent once, to the client connected then; later clients learn it from <see cref="HelloReply.Ready"/>.
/// </summary>
/// <param name="Pid">Host pid of the init.</param>
public sealed record InitReadyEvent(int Pid) : ShimEvent;

/// <summary>
/// The end of a process the monitor started (the init or an exec'd process): the exit event, and, the same line, the
/// exit record the monitor writes to <c>STATE/exit/PID.json</c> before it sends the event (<see cref="ReadRecord"/>).
/// </summary>
/// <param name="Pid">Host pid.</param>
/// <param name="Status">The exit code, or 128 + the signal number when a signal killed it.</param>
/// <param name="Signal">The signal that killed it, if one did.</param>
/// <param name="NsPid">Its pid inside the container (0 when unknown).</param>
/// <param name="Time">When the monitor reaped it (UTC).</param>
public sealed record ProcessExit(int Pid, int Status, int? Signal = null, int NsPid = 0, DateTimeOffset? Time = null) : ShimEvent
{
    /// <summary>Decodes a raw <c>waitpid</c> status: the exit code, or 128 + the signal number.</summary>
    /// <param name="pid">Host pid.</param>
    /// <param name="rawStatus">The status <c>waitpid</c> stored.</param>
    /// <param name="nsPid">Pid inside the container, 0 when unknown.</param>
    /// <param name="time">When it was reaped.</param>
    public static ProcessExit FromWaitStatus(int pid, int rawStatus, int nsPid = 0, DateTimeOffset? time = null)
    {
        int signal = rawStatus & 0x7f;
        return signal == 0
            ? new ProcessExit(pid, (rawStatus >> 8) & 0xff, null, nsPid, time)
            : new ProcessExit(pid, 128 + signal, signal, nsPid, time);
    }

    /// <summary>"exit status N" or "killed by signal N", for messages.</summary>
    public string Describe() => Signal is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"killed by signal {s}")
        : string.Create(CultureInfo.InvariantCulture, $"exit status {Status}");

    /// <summary>The path of the exit record of <paramref name="pid"/> in the monitor's state directory.</summary>
    public static string RecordPath(string stateDirectory, int pid) =>
        Path.Combine(stateDirectory, ShimProtocol.ExitDirectoryName, pid.ToString(CultureInfo.InvariantCulture) + ".json");

    /// <summary>Reads <c>STATE/exit/PID.json</c>; null when there is none, or it is unreadable or not an exit of <paramref name="pid"/>.</summary>
    public static ProcessExit? ReadRecord(string stateDirectory, int pid)
    {
        try
        {
            var exit = ShimCodec.DecodeExitRecord(File.ReadAllBytes(RecordPath(stateDirectory, pid)));
            return exit?.Pid == pid ? exit : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The one line <c>hcs-shim monitor</c> writes to its stdout once <c>runc create</c> has finished, then it closes its
/// stdout: ready with the init's pid, or not ready with runc's error (the monitor then exits 1).
/// </summary>
/// <param name="Ready">True when the container was created.</param>
/// <param name="InitPid">Host pid of the container's init, when ready.</param>
/// <param name="Error">Why not, when not ready.</param>
public sealed record MonitorStarted(bool Ready, int? InitPid = null, string? Error = null);
