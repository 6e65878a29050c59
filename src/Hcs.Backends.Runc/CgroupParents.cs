// Copyright (c) hcs contributors. Licensed under the MIT licence.

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

    /// <summary>Removes the parent of <paramref name="cgroupsPath"/> in every hierarchy where it is empty; skipped while a container is being created.</summary>
    public static void RemoveEmpty(string cgroupsPath, string mountInfoPath = "/proc/self/mountinfo")
    {
        lock (s_gate)
        {
            if (s_creating == 0)
            {
                RemoveEmptyLocked(cgroupsPath, mountInfoPath);
            }
        }
    }

    /// <summary>Removes the empty parents now, whatever is being created (the removal itself, for tests).</summary>
    internal static void RemoveEmptyNow(string cgroupsPath, string mountInfoPath)
    {
        lock (s_gate)
        {
            RemoveEmptyLocked(cgroupsPath, mountInfoPath);
        }
    }

    private static void RemoveEmptyLocked(string cgroupsPath, string mountInfoPath)
    {
        var parent = Path.GetDirectoryName(cgroupsPath.TrimEnd('/'));
        if (string.IsNullOrEmpty(parent) || parent == "/")
        {
            return;
        }

        foreach (var directory in ContainerCgroup.Find(parent, mountInfoPath).Directories)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not empty, or not there.
            }
        }
    }
}
