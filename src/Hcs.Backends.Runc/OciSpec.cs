// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>Everything <see cref="OciSpec.Build"/> needs to write a container's <c>config.json</c>.</summary>
/// <param name="Id">The system id (the fallback host name).</param>
/// <param name="Container">The validated document (<see cref="ContainerValidation"/>).</param>
/// <param name="RootfsPath">The mounted overlay root file system.</param>
/// <param name="InitPath">The hcs-shim binary, bind-mounted read-only at <see cref="OciSpec.InitMountPoint"/>.</param>
/// <param name="CgroupsPath">The container's cgroup, relative to each hierarchy's root (e.g. <c>/hcs/ID</c>).</param>
/// <param name="NetnsPath">An existing network namespace to join, or null for a new, empty one.</param>
/// <param name="HostCpuCount">Processors of the host (<see cref="Environment.ProcessorCount"/>), for the CPU quota.</param>
internal sealed record ContainerBundle(string Id, Container Container, string RootfsPath, string InitPath, string CgroupsPath,
    string? NetnsPath, int HostCpuCount)
{
    /// <summary>
    /// Mapped directories whose source runc takes from a staging point rather than <c>HostPath</c> (index → path; for a
    /// caller that is not root, see <c>RuncBackend.StageSource</c>).
    /// </summary>
    public IReadOnlyDictionary<int, string>? StagedSources { get; init; }
}

/// <summary>
/// Writes the OCI runtime configuration (<c>config.json</c>) of a container, modelled on runc 1.1's <c>runc spec</c>
/// defaults: the same namespaces (pid, ipc, uts, mount, network), mounts, capabilities, rlimits, masked and read-only
/// paths and a deny-all device cgroup. The differences: the root file system is writable (it is the overlay whose upper
/// directory is the scratch), the process is our init (<c>/.hcs/init init</c>, hcs-shim bind-mounted read-only) without a
/// terminal, mapped directories are recursive private bind mounts, the network namespace is joined when the document
/// names one, and resources come from <see cref="Resources"/>. Built with <see cref="System.Text.Json.Nodes"/> (no
/// reflection).
/// </summary>
internal static class OciSpec
{
    /// <summary>The OCI version runc 1.1 writes.</summary>
    public const string OciVersion = "1.0.2-dev";

    /// <summary>Where the init (hcs-shim) is mounted inside the container.</summary>
    public const string InitMountPoint = "/.hcs/init";

    /// <summary>The default <c>PATH</c> of container processes.</summary>
    public const string DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>CFS period, µs (100 ms, the kernel's default).</summary>
    public const long CpuPeriod = 100_000;

    /// <summary>The kernel's smallest CFS quota, µs.</summary>
    public const long MinCpuQuota = 1_000;

    /// <summary>cgroup v1 <c>cpu.shares</c> bounds.</summary>
    public const ulong MinShares = CgroupCpuLimits.MinShares, MaxShares = CgroupCpuLimits.MaxShares;

    /// <summary>The capabilities of <c>runc spec</c> (bounding, effective, permitted, ambient).</summary>
    public static IReadOnlyList<string> DefaultCapabilities { get; } = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

    private static readonly string[] s_maskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ];

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private static readonly string[] s_readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    /// <summary>The <c>config.json</c> text of <paramref name="bundle"/>.</summary>
    public static string Build(ContainerBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var container = bundle.Container;
        var resources = Resources(container.Memory, container.Processor, bundle.HostCpuCount);
        resources["devices"] = new JsonArray(new JsonObject { ["allow"] = false, ["access"] = "rwm" });

        var network = new JsonObject { ["type"] = "network" };
        if (bundle.NetnsPath is { } netns)
        {
            network["path"] = netns;
        }

        var config = new JsonObject
        {
            ["ociVersion"] = OciVersion,
            ["process"] = new JsonObject
            {
                ["terminal"] = false,
                ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
                ["args"] = new JsonArray(InitMountPoint, "init"),
                ["env"] = new JsonArray(DefaultPath),
                ["cwd"] = "/",
                ["capabilities"] = Capabilities(),
                ["rlimits"] = Rlimits(),
                ["noNewPrivileges"] = true,
            },
            ["root"] = new JsonObject { ["path"] = bundle.RootfsPath, ["readonly"] = false },
            ["hostname"] = container.GuestOs?.HostName ?? HostNameFromId(bundle.Id),
            ["mounts"] = Mounts(bundle),
            ["linux"] = new JsonObject
            {
                ["resources"] = resources,
                ["cgroupsPath"] = bundle.CgroupsPath,
                ["namespaces"] = new JsonArray(
                    new JsonObject { ["type"] = "pid" },
                    network,
                    new JsonObject { ["type"] = "ipc" },
                    new JsonObject { ["type"] = "uts" },
                    new JsonObject { ["type"] = "mount" }),
                ["maskedPaths"] = Strings(s_maskedPaths),
                ["readonlyPaths"] = Strings(s_readonlyPaths),
                ["rootfsPropagation"] = "rslave",
            },
        };
        return config.ToJsonString(s_indented);
    }

    /// <summary>
    /// The OCI <c>LinuxResources</c> object (without <c>devices</c>) for a container's memory and processor settings;
    /// usable in <c>config.json</c> and as the <c>runc update -r FILE</c> input.
    /// <list type="bullet">
    /// <item><c>Memory.SizeInMB</c> → <c>memory.limit</c> = SizeInMB × 1 MiB (bytes). No <c>memory</c> member without it.</item>
    /// <item>With a <c>Processor</c>, the whole <c>cpu</c> object is written (so an update replaces earlier settings):
    /// <c>period</c> = 100000 µs;
    /// <c>Count</c> → <c>quota</c> = min(Count, <paramref name="hostCpuCount"/>) × period (more processors than the host has
    /// is allowed, it just limits nothing beyond them);
    /// <c>Maximum</c> (1–10000, percent × 100 of the whole host) → <c>quota</c> = Maximum × hostCpuCount × period / 10000,
    /// at least 1000 µs (the kernel's minimum);
    /// neither → <c>quota</c> = -1 (no limit);
    /// <c>Weight</c> (0–10000, HCS default 100) → <c>shares</c> = Weight × 1024 / 100 clamped to 2–262144 (100 ↔ 1024,
    /// the QEMU backend's mapping); no Weight → <c>shares</c> = 1024.</item>
    /// </list>
    /// </summary>
    public static JsonObject Resources(ContainerMemory? memory, ContainerProcessor? processor, int hostCpuCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hostCpuCount, 1);
        var resources = new JsonObject();
        if (memory?.SizeInMB is { } mb)
        {
            resources["memory"] = new JsonObject { ["limit"] = checked((long)mb * 1024 * 1024) };
        }

        if (processor is not null)
        {
            resources["cpu"] = new JsonObject
            {
                ["shares"] = Shares(processor.Weight),
                ["quota"] = Quota(processor, hostCpuCount),
                ["period"] = (ulong)CpuPeriod,
            };
        }

        return resources;
    }

    /// <summary>The CFS quota (µs per <see cref="CpuPeriod"/>) of <paramref name="processor"/>, -1 for none (see <see cref="Resources"/>).</summary>
    public static long Quota(ContainerProcessor processor, int hostCpuCount)
    {
        ArgumentNullException.ThrowIfNull(processor);
        if (processor.Count is { } count)
        {
            return Math.Min((long)count, hostCpuCount) * CpuPeriod;
        }

        if (processor.Maximum is { } maximum)
        {
            var capped = Math.Min(maximum, 10_000UL);
            return Math.Max(MinCpuQuota, (long)(capped * (ulong)hostCpuCount * CpuPeriod / 10_000));
        }

        return -1;
    }

    /// <summary>cgroup v1 <c>cpu.shares</c> of an HCS weight (see <see cref="Resources"/>).</summary>
    public static ulong Shares(ulong? weight) =>
        weight is { } w ? CgroupCpuLimits.SharesFromWeight(w) : CgroupCpuLimits.DefaultShares;

    /// <summary>
    /// A host name made from a system id: every character other than an ASCII letter or digit becomes <c>-</c>, at most
    /// 63 characters (one RFC 1123 label), no leading or trailing <c>-</c>; <c>container</c> if nothing is left.
    /// </summary>
    public static string HostNameFromId(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var mapped = new string([.. id.Take(63).Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-');
        return mapped.Length == 0 ? "container" : mapped;
    }

    /// <summary>The <c>process.capabilities</c> object (<see cref="DefaultCapabilities"/> in every set).</summary>
    public static JsonObject Capabilities() => new()
    {
        ["bounding"] = Strings(DefaultCapabilities),
        ["effective"] = Strings(DefaultCapabilities),
        ["permitted"] = Strings(DefaultCapabilities),
        ["ambient"] = Strings(DefaultCapabilities),
    };

    /// <summary>The <c>process.rlimits</c> array of <c>runc spec</c> (<c>RLIMIT_NOFILE</c> 1024).</summary>
    public static JsonArray Rlimits() =>
        new(new JsonObject { ["type"] = "RLIMIT_NOFILE", ["hard"] = 1024, ["soft"] = 1024 });

    private static JsonArray Mounts(ContainerBundle bundle)
    {
        var mounts = new JsonArray(
            Mount("/proc", "proc", "proc"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
            Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
            Mount("/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k"),
            Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
            Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro"),
            Mount("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid", "noexec", "nodev", "relatime", "ro"),
            Mount(InitMountPoint, "bind", bundle.InitPath, "rbind", "ro"));
        var directories = bundle.Container.MappedDirectories ?? [];
        for (var i = 0; i < directories.Count; i++)
        {
            var directory = directories[i];
            var source = bundle.StagedSources is { } staged && staged.TryGetValue(i, out var stage) ? stage : directory.HostPath!;
            mounts.Add((JsonNode)Mount(directory.ContainerPath!, "bind", source, "rbind", "rprivate", directory.ReadOnly == true ? "ro" : "rw"));
        }

        return mounts;
    }

    private static JsonObject Mount(string destination, string type, string source, params string[] options)
    {
        var mount = new JsonObject { ["destination"] = destination, ["type"] = type, ["source"] = source };
        if (options.Length > 0)
        {
            mount["options"] = Strings(options);
        }

        return mount;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode?)JsonValue.Create(v))]);
}
