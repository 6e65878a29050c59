// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;

namespace Hcs.Backends.Qemu;

/// <summary>The cgroup version of a hierarchy.</summary>
public enum CgroupVersion
{
    /// <summary>cgroup v1: one hierarchy per controller (or group of controllers), <c>cpu.cfs_quota_us</c>, <c>cpu.shares</c>.</summary>
    V1 = 1,

    /// <summary>cgroup v2 (unified): <c>cpu.max</c>, <c>cpu.weight</c>, controllers enabled through <c>cgroup.subtree_control</c>.</summary>
    V2 = 2,
}

/// <summary>
/// The mounted cgroup hierarchy that holds the <c>cpu</c> controller, found in a mount table
/// (<c>/proc/self/mountinfo</c>). A v1 hierarchy has <c>cpu</c> among its super options (<c>cpu</c> alone or
/// co-mounted as <c>cpu,cpuacct</c>); a v2 hierarchy has <c>cpu</c> in its root's <c>cgroup.controllers</c>. A controller
/// is bound to one hierarchy at a time, so on a hybrid host (v1 controllers plus a v2 mount, like this project's
/// build machine) the v1 one is found; the v2 mount only counts when it actually offers <c>cpu</c>.
/// </summary>
/// <param name="Version">Which cgroup version the hierarchy is.</param>
/// <param name="MountPoint">Where it is mounted, e.g. <c>/sys/fs/cgroup/cpu</c> or <c>/sys/fs/cgroup</c>.</param>
public sealed record CgroupHierarchy(CgroupVersion Version, string MountPoint)
{
    /// <summary>
    /// Finds the cpu hierarchy in the text of a <c>mountinfo</c> file, or null when none is mounted. For a v2 mount,
    /// <c>cgroup.controllers</c> is read from the mount point.
    /// </summary>
    public static CgroupHierarchy? FindCpu(string mountInfo)
    {
        ArgumentNullException.ThrowIfNull(mountInfo);
        CgroupHierarchy? unified = null;
        foreach (var line in mountInfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mount-point options [optional...] - fstype source super-options
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (dash < 5 || dash + 3 >= fields.Length)
            {
                continue;
            }

            var mountPoint = LinuxHost.UnescapeMountInfo(fields[4]);
            switch (fields[dash + 1])
            {
                case "cgroup" when fields[dash + 3].Split(',').Contains("cpu"):
                    return new CgroupHierarchy(CgroupVersion.V1, mountPoint);
                case "cgroup2" when unified is null && OffersCpu(mountPoint):
                    unified = new CgroupHierarchy(CgroupVersion.V2, mountPoint);
                    break;
            }
        }

        return unified;
    }

    /// <summary>Reads <paramref name="mountInfoPath"/> and finds the cpu hierarchy; null when the file or the hierarchy is missing.</summary>
    public static CgroupHierarchy? DiscoverCpu(string mountInfoPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(mountInfoPath);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return FindCpu(text);
    }

    private static bool OffersCpu(string mountPoint)
    {
        try
        {
            return File.ReadAllText(Path.Combine(mountPoint, "cgroup.controllers"))
                .Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Contains("cpu");
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
