// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;

namespace Hcs.Backends.Runc;

/// <summary>
/// <c>runc delete</c> removes a container's cgroup but leaves its parent (<c>/hcs</c>) in every hierarchy; this removes
/// the parents that are left empty (an <c>rmdir</c> of a cgroup that still has children or processes fails, which is
/// the check).
/// </summary>
internal static class CgroupParents
{
    private static readonly Lock s_gate = new();
    private static int s_creating; // guarded by s_gate

    /// <summary>
    /// Marks a container's cgroups as being created (runc makes the parent, then the child) until the returned scope is
    /// disposed; meanwhile <see cref="RemoveEmpty"/> leaves parents alone, so it cannot remove one between runc's two
    /// <c>mkdir</c>s. This covers every backend in the process; hcsd is the only process that creates our containers.
    /// </summary>
    public static IDisposable Creating()
    {
        lock (s_gate)
        {
            s_creating++;
        }

        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (s_gate)
                {
                    s_creating--;
                }
            }
        }
    }

    /// <summary>
    /// Removes the parent of <paramref name="cgroupsPath"/> in every hierarchy of <paramref name="hierarchy"/> (null:
    /// this host's) where it is empty; skipped while a container is being created.
    /// </summary>
    public static void RemoveEmpty(string cgroupsPath, CgroupHierarchy? hierarchy = null)
    {
        lock (s_gate)
        {
            if (s_creating == 0)
            {
                RemoveEmptyLocked(cgroupsPath, hierarchy ?? CgroupHierarchy.Host);
            }
        }
    }

    /// <summary>Removes the empty parents now, whatever is being created (the removal itself, for tests).</summary>
    internal static void RemoveEmptyNow(string cgroupsPath, CgroupHierarchy hierarchy)
    {
        lock (s_gate)
        {
            RemoveEmptyLocked(cgroupsPath, hierarchy);
        }
    }

    private static void RemoveEmptyLocked(string cgroupsPath, CgroupHierarchy hierarchy)
    {
        var parent = Path.GetDirectoryName(cgroupsPath.TrimEnd('/'));
        if (string.IsNullOrEmpty(parent) || parent == "/")
        {
            return;
        }

        hierarchy.Cgroup(parent).TryRemove(); // not empty, or not there: left as it is
    }
}
