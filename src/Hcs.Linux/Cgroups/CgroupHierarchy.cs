// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>
/// The host's cgroups, as one of two implementations: <see cref="CgroupV1"/> (a v1 or hybrid host: a hierarchy per
/// controller below the root) or <see cref="CgroupV2"/> (the unified hierarchy mounted at the root). Everything hcs
/// reads from or writes to a cgroup goes through a <see cref="Cgroup"/> opened here, so the backends and their tests
/// never name a version's files or paths. <see cref="Open"/> detects the version from the root;
/// tests point it at a directory laid out like a real host.
/// </summary>
public abstract class CgroupHierarchy
{
    /// <summary>Where the host mounts its cgroups.</summary>
    public const string DefaultRoot = "/sys/fs/cgroup";

    private static readonly Lazy<CgroupHierarchy> s_host = new(() => Open(DefaultRoot));

    private protected CgroupHierarchy(string root, Action<string>? directoryMade)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = root;
        DirectoryMade = directoryMade;
    }

    /// <summary>This host's cgroups (<see cref="DefaultRoot"/>, detected once).</summary>
    public static CgroupHierarchy Host => s_host.Value;

    /// <summary>The root, e.g. <c>/sys/fs/cgroup</c>.</summary>
    public string Root { get; }

    /// <summary>
    /// Called with each cgroup directory this makes, right after its <c>mkdir(2)</c>: a test tree adds the interface
    /// files the kernel would. Null on a real host.
    /// </summary>
    public Action<string>? DirectoryMade { get; }

    /// <summary>Which version this host runs (<see cref="CgroupVersion.V1"/> for a hybrid host).</summary>
    public abstract CgroupVersion Version { get; }

    /// <summary>
    /// The cgroups mounted at <paramref name="root"/>: v2 when it is a cgroup2 mount, which (as the only kind of mount
    /// that does) has <c>cgroup.controllers</c> at its root; otherwise v1, a root holding one directory per hierarchy
    /// (a hybrid host's cgroup2 mount among them as <c>unified</c>). <paramref name="directoryMade"/>: see
    /// <see cref="DirectoryMade"/>.
    /// </summary>
    public static CgroupHierarchy Open(string root, Action<string>? directoryMade = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        return File.Exists(Path.Combine(root, "cgroup.controllers")) ? new CgroupV2(root, directoryMade) : new CgroupV1(root, directoryMade);
    }

    /// <summary>True if <paramref name="controller"/> (<c>cpu</c>, <c>memory</c>, <c>pids</c>, …) can be used here.</summary>
    public abstract bool HasController(string controller);

    /// <summary>
    /// The cgroup at <paramref name="path"/> (relative to the root of every hierarchy, with or without a leading
    /// <c>/</c>, e.g. <c>/hcs/ID</c>). With <paramref name="controllers"/>, a v1 cgroup is only the directories of
    /// those controllers' hierarchies (what is created, written and removed); without, it is the directory in every
    /// hierarchy (what runc creates for a container). Nothing is created or read.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is the root, or has an empty, <c>.</c> or <c>..</c> segment.</exception>
    public Cgroup Cgroup(string path, params IReadOnlyList<string> controllers)
    {
        ArgumentNullException.ThrowIfNull(controllers);
        return OpenCgroup(Segments(path), controllers);
    }

    /// <summary>The segments of a cgroup path below the root.</summary>
    /// <exception cref="ArgumentException">The path is the root, or has an empty, <c>.</c> or <c>..</c> segment.</exception>
    public static string[] Segments(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var segments = path.Trim('/').Split('/');
        if (segments is [""] || segments.Any(s => s is "" or "." or ".." || s.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException($"'{path}' is not a cgroup path below the hierarchy roots", nameof(path));
        }

        return segments;
    }

    private protected abstract Cgroup OpenCgroup(string[] segments, IReadOnlyList<string> controllers);

    // ---- Operations on a cgroup of this hierarchy (Cgroup is the facade) ----------------------------------------------

    internal abstract IReadOnlyList<string> DirectoriesOf(Cgroup cgroup);

    internal abstract string? DirectoryOf(Cgroup cgroup, string controller);

    internal abstract void Create(Cgroup cgroup);

    internal abstract IReadOnlyList<int> ReadProcesses(Cgroup cgroup);

    internal abstract ulong? ReadTaskCount(Cgroup cgroup);

    internal abstract void AddProcess(Cgroup cgroup, int pid);

    internal abstract void SetCpuLimits(Cgroup cgroup, CgroupCpuLimits limits);

    internal abstract CgroupCpuLimits? ReadCpuLimits(Cgroup cgroup);

    internal abstract CgroupCpuUsage? ReadCpuUsage(Cgroup cgroup);

    internal abstract CgroupMemoryUsage? ReadMemoryUsage(Cgroup cgroup);

    internal abstract ulong? ReadMemoryLimit(Cgroup cgroup);

    internal abstract CgroupIoUsage? ReadIoUsage(Cgroup cgroup);

    internal abstract ulong? ReadOomKills(Cgroup cgroup);

    internal abstract void SetFrozen(Cgroup cgroup, bool frozen);

    internal abstract bool? ReadFrozen(Cgroup cgroup);

    internal abstract bool TryKill(Cgroup cgroup);

    /// <summary>
    /// Removes <paramref name="directory"/> with <c>rmdir(2)</c> (a cgroup's interface files do not count; one that
    /// still has processes or children is refused); true when it is gone, false when it is still there.
    /// </summary>
    internal static bool TryRemoveDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: false);
            return true;
        }
        catch (DirectoryNotFoundException)
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Makes <paramref name="root"/>/<paramref name="segments"/>, calling <paramref name="beforeChild"/> with each
    /// directory before its child is made (v2 enables controllers there). A leaf that exists is reused only when it
    /// holds no process. A parent removed between two <c>mkdir</c>s (another cgroup under it was just cleaned up) is made again.
    /// </summary>
    private protected void MakeDirectories(string root, string[] segments, Action<string>? beforeChild)
    {
        var leaf = Path.Combine([root, .. segments]);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var dir = root;
                foreach (var segment in segments)
                {
                    beforeChild?.Invoke(dir);
                    dir = Path.Combine(dir, segment);
                    if (dir == leaf && Directory.Exists(dir))
                    {
                        // Left behind by a process that died; reused only if no process is in it.
                        if (CgroupFiles.ReadPids(dir) is [var pid, ..])
                        {
                            throw new CgroupException(CgroupErrorKind.Busy, $"cgroup {leaf} already exists and holds process {pid}");
                        }
                    }
                    else if (!Directory.Exists(dir))
                    {
                        Directory.CreateDirectory(dir);
                        DirectoryMade?.Invoke(dir);
                    }
                }

                return;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
            }
            catch (Exception e) when (e is (IOException or UnauthorizedAccessException) and not CgroupException)
            {
                throw CgroupFiles.Failure(e, $"create cgroup {leaf}");
            }
        }
    }
}
