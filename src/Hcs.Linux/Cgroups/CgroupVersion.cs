// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>The cgroup version of a host (or of one hierarchy).</summary>
public enum CgroupVersion
{
    /// <summary>
    /// cgroup v1: one hierarchy per controller or group of co-mounted controllers (<c>cpu,cpuacct</c>), each mounted
    /// below the root (a tmpfs); a hybrid host adds a cgroup2 mount at <c>unified</c>.
    /// </summary>
    V1 = 1,

    /// <summary>cgroup v2: one unified hierarchy mounted at the root, controllers enabled through <c>cgroup.subtree_control</c>.</summary>
    V2 = 2,
}
