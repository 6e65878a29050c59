// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Runc;

/// <summary>
/// <c>runc delete</c> removes a container's cgroup but leaves its parent (<c>/hcs</c>) in every hierarchy; this removes
/// the parents that are left empty (an <c>rmdir</c> of a cgroup that still has children or processes fails, which is
/// the check).
/// </summary>
internal static class CgroupParents
{
    public static void RemoveEmpty(string cgroupsPath, string mountInfoPath = "/proc/self/mountinfo")
    {
        var parent = Path.GetDirectoryName(cgroupsPath.TrimEnd('/'))?.TrimStart('/');
        if (string.IsNullOrEmpty(parent))
        {
            return;
        }

        IEnumerable<string> lines;
        try
        {
            lines = File.ReadLines(mountInfoPath).ToList();
        }
        catch (IOException)
        {
            return;
        }

        foreach (var line in lines)
        {
            // "36 25 0:31 / /sys/fs/cgroup/memory rw,... - cgroup cgroup rw,memory"
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (dash < 0 || dash + 1 >= fields.Length || fields[dash + 1] is not ("cgroup" or "cgroup2") || fields.Length < 5)
            {
                continue;
            }

            try
            {
                Directory.Delete(Path.Combine(fields[4], parent));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not empty, or not there.
            }
        }
    }
}
