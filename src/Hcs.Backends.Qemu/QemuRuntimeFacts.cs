// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hcs.Backends.Qemu;

/// <summary>
/// What the QEMU backend reports through <c>IBackendEventSink.RuntimeFactsChanged</c> after Create and whenever one of
/// them changes, and reads back in <see cref="QemuBackend.AdoptAsync"/> after a service restart. Only this backend
/// reads it; the engine stores it as an opaque string.
/// </summary>
public sealed record QemuRuntimeFacts
{
    /// <summary>The current format version.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format version (<see cref="CurrentVersion"/>).</summary>
    public int Version { get; init; } = CurrentVersion;

    /// <summary>QEMU's process id.</summary>
    public int Pid { get; init; }

    /// <summary>QEMU's start time: field 22 of <c>/proc/PID/stat</c> (clock ticks after boot), which tells a reused pid apart.</summary>
    public ulong StartTime { get; init; }

    /// <summary>The kernel's boot id (<c>/proc/sys/kernel/random/boot_id</c>): a pid and start time mean nothing after a reboot.</summary>
    public string? BootId { get; init; }

    /// <summary>The VM's runtime directory (always <see cref="QemuBackend.RuntimeDirectoryOf"/> of the runtime root and id).</summary>
    public string RuntimeDirectory { get; init; } = "";

    /// <summary>QEMU's QMP socket (QEMU listens; it accepts a new client after the previous one went away).</summary>
    public string QmpSocket { get; init; } = "";

    /// <summary>The serial console's log file.</summary>
    public string ConsoleLog { get; init; } = "";

    /// <summary>QEMU's stdout and stderr (QEMU writes its errors there, e.g. why a restore failed).</summary>
    public string QemuLog { get; init; } = "";

    /// <summary>The host end of the guest connection port (<c>gcs.sock</c>), when the VM has a <c>GuestConnection</c>.</summary>
    public string? GuestConnectionSocket { get; init; }

    /// <summary>The guest had the guest connection port open when this was reported.</summary>
    public bool GuestConnected { get; init; }

    /// <summary>Start completed (the guest has run); false again after a cancelled Start reset the VM.</summary>
    public bool Started { get; init; }

    /// <summary>
    /// The temporary file of a Save in progress (next to the target), so that a restarted service removes the partial
    /// file of a Save the previous one did not finish.
    /// </summary>
    public string? SaveTemporaryFile { get; init; }

    /// <summary>The balloon size last requested by Modify, in MB (null: the boot size).</summary>
    public ulong? BalloonTargetMb { get; init; }

    /// <summary>Every SCSI attachment in use, including those hot added by Modify (a Save records them in its header).</summary>
    public IReadOnlyList<QemuScsiSlotFact> Scsi { get; init; } = [];

    /// <summary>The CPU limit in force (<c>Processor.Limit</c> semantics), when the VM has a cgroup.</summary>
    public ulong? CpuLimit { get; init; }

    /// <summary>The CPU weight in force, when the VM has a cgroup.</summary>
    public ulong? CpuWeight { get; init; }

    /// <summary>Whether the VM runs in a cgroup of its own.</summary>
    public bool HasCgroup { get; init; }

    /// <summary>Serialises to the JSON reported to the engine.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, QemuFactsJson.Default.QemuRuntimeFacts);

    /// <summary>Parses reported JSON; null when it is not facts of a version this backend reads.</summary>
    public static QemuRuntimeFacts? TryParse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return null;
        }

        try
        {
            var facts = JsonSerializer.Deserialize(json, QemuFactsJson.Default.QemuRuntimeFacts);
            return facts is { Version: CurrentVersion, Pid: > 0 } ? facts : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>One SCSI attachment in use (see <see cref="QemuRuntimeFacts.Scsi"/>).</summary>
/// <param name="Bus">The controller's QEMU id (<c>scsiN</c>).</param>
/// <param name="Lun">The LUN.</param>
/// <param name="Driver">The QEMU device driver (<c>scsi-hd</c>, <c>scsi-cd</c>).</param>
public sealed record QemuScsiSlotFact(string Bus, uint Lun, string Driver);

[JsonSerializable(typeof(QemuRuntimeFacts))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class QemuFactsJson : JsonSerializerContext;
