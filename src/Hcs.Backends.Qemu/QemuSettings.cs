// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Qemu;

/// <summary>Host settings of the QEMU backend.</summary>
public sealed record QemuSettings
{
    /// <summary>The QEMU binary.</summary>
    public string Binary { get; init; } = "qemu-system-x86_64";

    /// <summary>
    /// The most bytes of a VM's serial console kept in <c>console.log</c> before it is rotated to <c>console.log.1</c>
    /// (default 4 MiB: at most 8 MiB of console per VM on disk). See <c>ConsoleLog</c> and docs/security.md.
    /// </summary>
    public long ConsoleLogMaxBytes { get; init; } = 4L << 20;

    /// <summary>The accelerator to use (<c>tcg</c> or <c>kvm</c>; <c>auto</c> is resolved by a bounded probe before use).</summary>
    public string Accelerator { get; init; } = "tcg";

    /// <summary>OVMF code image (read-only pflash) for <c>Chipset.Uefi</c>.</summary>
    public string OvmfCode { get; init; } = "/usr/share/OVMF/OVMF_CODE_4M.fd";

    /// <summary>OVMF variable store template, copied per VM.</summary>
    public string OvmfVars { get; init; } = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    /// <summary>
    /// Adds a second QMP monitor to every VM, <c>&lt;runtime dir&gt;/qmp-diagnostics.sock</c>, for operators and tests
    /// to inspect a VM (<c>query-block</c>, <c>query-balloon</c>, …). Commands sent there bypass the engine: use it to
    /// look, not to change state. Off by default.
    /// </summary>
    public bool DiagnosticsMonitor { get; init; }

    /// <summary>
    /// Parent of the VMs' cgroups, relative to the root of the cgroup hierarchy holding the cpu controller: a VM whose
    /// document sets <c>ComputeTopology.Processor.Limit</c> or <c>.Weight</c> runs in <c>parent/id</c>. Letters, digits,
    /// <c>-_.</c> and <c>/</c> between segments.
    /// </summary>
    public string CgroupParent { get; init; } = "hcs";

    /// <summary>
    /// The <c>hcs-shim</c> executable QEMU is started through (<c>hcs-shim launch</c>: a session of its own, stdin from
    /// <c>/dev/null</c>, stdout/stderr to <c>qemu.log</c> in the runtime directory, then exec of QEMU under the same
    /// pid), so that QEMU outlives the service. Null: <see cref="Hcs.Engine.Backends.LinuxHost.LocateShim()"/>
    /// (<c>$HCS_SHIM</c>, beside the application, <c>artifacts/shim</c> of a source tree, <c>/usr/libexec/hcs/hcs-shim</c>).
    /// </summary>
    public string? LauncherPath { get; init; }

    /// <summary>
    /// hcsd's own paths (its socket, state directory and runtime root): a socket a document names (<c>ComPorts</c>,
    /// <c>VirtioSerial</c>, the VNC <c>NamedPipe</c>) or a <c>Save</c> target equal to one of them or inside one is
    /// refused with <c>E_ACCESSDENIED</c> for every caller, root included, so no client can make QEMU or the service
    /// unlink, re-bind or overwrite them. Set by <c>ServiceHost</c>; empty by default.
    /// </summary>
    public IReadOnlyList<string> ReservedPaths { get; init; } = [];

    /// <summary>
    /// Where the host's cgroups are mounted (<c>/sys/fs/cgroup</c>): a v2 mount, or a v1/hybrid root holding one
    /// hierarchy per controller (see <see cref="Hcs.Linux.Cgroups.CgroupHierarchy.Open"/>).
    /// </summary>
    public string CgroupRoot { get; init; } = Hcs.Linux.Cgroups.CgroupHierarchy.DefaultRoot;
}
