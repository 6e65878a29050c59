// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Runc;

/// <summary>Where the runc backend finds its tools and keeps its runtime state.</summary>
public sealed record RuncSettings
{
    /// <summary>The runc binary.</summary>
    public string RuncPath { get; init; } = "/usr/sbin/runc";

    /// <summary>
    /// The hcs-shim binary (monitor and container init). Null: <see cref="Hcs.Engine.Backends.LinuxHost.LocateShim()"/>
    /// (<c>$HCS_SHIM</c>, beside the application, <c>artifacts/shim</c> of a source tree, <c>/usr/libexec/hcs/hcs-shim</c>).
    /// </summary>
    public string? ShimPath { get; init; }

    /// <summary>Per-container runtime directories (bundle, rootfs mount, shim socket, exit records).</summary>
    public string RuntimeRoot { get; init; } = "/run/hcs/runc";

    /// <summary>runc's own state directory (<c>runc --root</c>); null = <c>RuntimeRoot/state</c>.</summary>
    public string? RuncRoot { get; init; }

    /// <summary>Parent cgroup of every container, relative to each hierarchy's root.</summary>
    public string CgroupParent { get; init; } = "hcs";

    /// <summary>
    /// Where the host's cgroups are mounted, for reading the containers' statistics and process lists and removing their
    /// empty parents (runc itself finds the hierarchies on its own).
    /// </summary>
    public string CgroupRoot { get; init; } = Hcs.Linux.Cgroups.CgroupHierarchy.DefaultRoot;

    /// <summary>Where named network namespaces live (<c>ip netns</c>).</summary>
    public string NetnsDirectory { get; init; } = "/var/run/netns";
}
