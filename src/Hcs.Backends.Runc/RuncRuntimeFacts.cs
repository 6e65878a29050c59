// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hcs.Backends.Runc;

/// <summary>
/// What the runc backend reports through <c>IBackendEventSink.RuntimeFactsChanged</c> and reads back in
/// <c>AdoptAsync</c> after the service restarted: where the container's files are and which processes are its monitor
/// and init. Reported after Create, when the monitor is ready during Start, after Start, after an undone Start and
/// after a mapped directory was added. The real state (running, paused, exited) is never taken from here: adoption
/// asks runc and the monitor.
/// </summary>
/// <param name="Version">Format version (1).</param>
/// <param name="RuntimeDirectory">The container's runtime directory (bundle, <c>rootfs</c> mount point, <c>shim.sock</c>, <c>exit/</c>).</param>
/// <param name="ContainerId">The runc container id (also the last element of the cgroup path).</param>
/// <param name="RuncRoot">runc's state directory (<c>runc --root</c>).</param>
/// <param name="Rootfs">The overlay mount point.</param>
/// <param name="Scratch">The writable layer's directory (removed with the container).</param>
/// <param name="CgroupsPath">The OCI <c>cgroupsPath</c>, relative to each hierarchy's root.</param>
/// <param name="Started">True once <c>runc start</c> succeeded.</param>
/// <param name="Monitor">The <c>hcs-shim monitor</c>, while one runs for the container.</param>
/// <param name="InitPid">Host pid of the container's init, once <c>runc create</c> made it.</param>
/// <param name="RuntimeMounts">Mounts added while the container ran (mapped directories and their staging points), in mount order.</param>
internal sealed record RuncRuntimeFacts(
    int Version,
    string RuntimeDirectory,
    string ContainerId,
    string RuncRoot,
    string Rootfs,
    string Scratch,
    string CgroupsPath,
    bool Started,
    RuncMonitorFacts? Monitor,
    int? InitPid,
    IReadOnlyList<string> RuntimeMounts)
{
    /// <summary>Who made <c>Storage.Path</c> when it was a caller that is not root: it is removed with its credentials.</summary>
    public RuncScratchOwner? ScratchOwner { get; init; }

    /// <summary>The current format.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The facts as JSON (camelCase members).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, RuncFactsJsonContext.Default.RuncRuntimeFacts);

    /// <summary>Reads facts written by <see cref="ToJson"/>; null when <paramref name="json"/> is not such a document.</summary>
    public static RuncRuntimeFacts? Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            var facts = JsonSerializer.Deserialize(json, RuncFactsJsonContext.Default.RuncRuntimeFacts);
            return facts is { Version: CurrentVersion, RuntimeDirectory: not null, ContainerId: not null, RuncRoot: not null, Rootfs: not null, Scratch: not null, CgroupsPath: not null }
                ? facts with { RuntimeMounts = facts.RuntimeMounts ?? [] }
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>The caller whose credentials make and remove a scratch directory (<see cref="Hcs.Engine.Backends.HostCaller"/>).</summary>
/// <param name="Uid">Its uid.</param>
/// <param name="Gid">Its gid.</param>
/// <param name="Groups">Its supplementary groups.</param>
internal sealed record RuncScratchOwner(uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    /// <summary>The caller these facts name.</summary>
    public Hcs.Engine.Backends.HostCaller ToCaller() => new(Uid, Gid, Groups ?? []);
}

/// <summary>The container's monitor process.</summary>
/// <param name="Pid">Its pid.</param>
/// <param name="StartTime">Its start time (field 22 of <c>/proc/PID/stat</c>, clock ticks since boot): a pid reused by another process has another.</param>
/// <param name="Socket">Its control socket.</param>
internal sealed record RuncMonitorFacts(int Pid, ulong StartTime, string Socket);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(RuncRuntimeFacts))]
internal sealed partial class RuncFactsJsonContext : JsonSerializerContext;
