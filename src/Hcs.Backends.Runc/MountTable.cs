// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>The host's mount points, from <c>/proc/self/mountinfo</c>.</summary>
internal static class MountTable
{
    /// <summary>
    /// Mount points at or below <paramref name="directory"/>, in mount order (unmount them in reverse); an unreadable
    /// table gives none.
    /// </summary>
    public static IReadOnlyList<string> Under(string directory, string mountInfoPath = MountInfo.SelfPath) =>
        MountInfo.Read(mountInfoPath) is { } table ? MountInfo.PointsUnder(table, directory) : [];

    /// <summary>Unmounts everything at or below <paramref name="directory"/>, the last mounted first.</summary>
    public static async Task UnmountAllUnderAsync(string directory, CancellationToken cancellationToken)
    {
        // A point mounted twice (or a bind over a bind) needs as many unmounts: repeat while something is left, bounded.
        for (var round = 0; round < 4; round++)
        {
            var points = Under(directory);
            if (points.Count == 0)
            {
                return;
            }

            foreach (var point in points.Reverse())
            {
                await UnmountAsync(directory, point, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Unmounts <paramref name="point"/> of the runtime directory <paramref name="directory"/>. A point inside the
    /// container's root (<c>DIRECTORY/rootfs/…</c>) is resolved inside that root (<see cref="ContainerRoot.Unmount"/>):
    /// the workload may have swapped a component of its path for a symbolic link since, and an unmount by path would
    /// follow it onto the host. Anything else (the root itself, staging points) is under the root-only runtime
    /// directory and unmounted by path.
    /// </summary>
    public static async Task UnmountAsync(string directory, string point, CancellationToken cancellationToken)
    {
        var rootfs = Path.Combine(directory, "rootfs");
        if (!point.StartsWith(rootfs + "/", StringComparison.Ordinal))
        {
            await RootFs.UnmountAsync(point, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            using var root = ContainerRoot.Open(rootfs);
            root.Unmount(point[rootfs.Length..]);
        }
        catch (HcsException)
        {
            // The root is gone or the point cannot be unmounted: the root's own (lazy) unmount takes what is left.
        }
    }
}
