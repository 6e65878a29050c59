// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// One VM's cgroup in the cpu hierarchy: <c>mount/parent/name</c>, the name being the VM's runtime name
/// (<see cref="Hcs.Engine.Backends.LinuxHost.RuntimeName"/>: the id, or <c>h-HASH</c>) (e.g. <c>/sys/fs/cgroup/cpu/hcs/vm1</c> on v1,
/// <c>/sys/fs/cgroup/hcs/vm1</c> on v2). Created with the VM's <see cref="CpuControls"/> written before QEMU is
/// spawned; QEMU's pid is then written to <c>cgroup.procs</c>, which moves all its threads (v1 and v2), and it is
/// still paused (<c>-S</c>), so the guest never runs outside its limits. On v2, <c>+cpu</c> is written to the
/// <c>cgroup.subtree_control</c> of the mount root and of every parent on the way down. <see cref="RemoveAsync"/>
/// removes the cgroup once QEMU has been reaped, then every parent directory that is left empty (runtimes leave them
/// behind). Every failure is an <see cref="HcsException"/> naming the document member the cgroup honours:
/// <c>E_ACCESSDENIED</c> when the hierarchy is not writable (not root, no delegation), <c>ERROR_NOT_SUPPORTED</c> when
/// the controller lacks a file (e.g. a kernel without CFS bandwidth control), <c>ERROR_ALREADY_EXISTS</c> when a cgroup
/// of that name already holds processes, <c>E_FAIL</c> for any other refusal by the kernel (with its reason).
/// </summary>
public sealed class CpuCgroup
{
    private readonly CgroupHierarchy _hierarchy;
    private readonly string[] _parent;
    private readonly string _operation;

    private CpuCgroup(CgroupHierarchy hierarchy, string[] parent, string id, string operation, string? name)
    {
        _hierarchy = hierarchy;
        _parent = parent;
        _operation = operation;
        Id = id;
        Path = System.IO.Path.Combine([hierarchy.MountPoint, .. parent, name ?? id]);
    }

    /// <summary>The system id (named in errors).</summary>
    public string Id { get; }

    /// <summary>The cgroup's directory.</summary>
    public string Path { get; }

    /// <summary>The hierarchy it lives in.</summary>
    public CgroupHierarchy Hierarchy => _hierarchy;

    /// <summary>
    /// Checks a cgroup parent setting: a relative path of one or more segments of letters, digits, <c>-</c>, <c>_</c>
    /// and <c>.</c> (no empty, <c>.</c> or <c>..</c> segments); returns its segments.
    /// </summary>
    public static string[] ParseParent(string parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var segments = parent.Split('/');
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment is "." or ".." || !segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                throw new ArgumentException($"cgroup parent '{parent}' must be a relative path of letters, digits, '-', '_' and '.' segments", nameof(parent));
            }
        }

        return segments;
    }

    /// <summary>
    /// Creates (or reuses, when it exists with no processes) the cgroup <c>parent/name</c> (<paramref name="name"/>
    /// defaults to <paramref name="id"/>) and writes <paramref name="controls"/>. Failures name
    /// <paramref name="member"/> and carry <paramref name="operation"/>.
    /// </summary>
    public static CpuCgroup Create(CgroupHierarchy hierarchy, string parent, string id, CpuControls controls, string member, string operation, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        ArgumentNullException.ThrowIfNull(controls);
        var cgroup = new CpuCgroup(hierarchy, ParseParent(parent), id, operation, name);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                cgroup.MakeDirectories(member);
                break;
            }
            catch (DirectoryNotFoundException) when (attempt < 5)
            {
                // A parent was removed between our mkdirs (another VM under the same parent was just cleaned up): again.
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                cgroup.TryRemove(); // the parents this attempt created, if they are empty
                throw cgroup.Failure(e, member, $"create cgroup {cgroup.Path}", null);
            }
        }

        try
        {
            cgroup.Apply(controls, member);
        }
        catch
        {
            cgroup.TryRemove();
            throw;
        }

        return cgroup;
    }

    /// <summary>
    /// The existing cgroup <c>parent/name</c> (<paramref name="name"/> defaults to <paramref name="id"/>) of a VM
    /// adopted after a service restart, or null when there is none. Nothing is created or written.
    /// </summary>
    public static CpuCgroup? Existing(CgroupHierarchy hierarchy, string parent, string id, string operation, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        var cgroup = new CpuCgroup(hierarchy, ParseParent(parent), id, operation, name);
        return Directory.Exists(cgroup.Path) ? cgroup : null;
    }

    /// <summary>Writes <paramref name="controls"/> (v1: period, quota, shares; v2: <c>cpu.max</c>, <c>cpu.weight</c>).</summary>
    public void Apply(CpuControls controls, string member)
    {
        ArgumentNullException.ThrowIfNull(controls);
        if (_hierarchy.Version == CgroupVersion.V1)
        {
            Write("cpu.cfs_period_us", CpuControls.PeriodMicroseconds.ToString(CultureInfo.InvariantCulture), member);
            Write("cpu.cfs_quota_us", controls.CfsQuota, member);
            Write("cpu.shares", controls.Shares.ToString(CultureInfo.InvariantCulture), member);
        }
        else
        {
            Write("cpu.max", controls.CpuMax, member);
            Write("cpu.weight", controls.CpuWeight.ToString(CultureInfo.InvariantCulture), member);
        }
    }

    /// <summary>Moves process <paramref name="pid"/> with all its threads into the cgroup (<c>cgroup.procs</c>).</summary>
    public void AddProcess(int pid, string member) => Write("cgroup.procs", pid.ToString(CultureInfo.InvariantCulture), member);

    /// <summary>The pids in the cgroup (<c>cgroup.procs</c>); empty when it is gone.</summary>
    public IReadOnlyList<int> Processes() => ReadProcesses(Path);

    /// <summary>
    /// Removes the cgroup once its processes are gone (retrying briefly: the kernel may still be tearing down the
    /// last exiting task), then each parent directory that is left empty, deepest first. Returns false if the cgroup
    /// could not be removed (it still holds a process).
    /// </summary>
    public async Task<bool> RemoveAsync(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        for (var attempt = 1; ; attempt++)
        {
            if (TryRemove())
            {
                return true;
            }

            if (attempt == 50)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Removes the cgroup if it holds no process, then each parent directory left empty; false if it is still busy.
    /// </summary>
    public bool TryRemove()
    {
        try
        {
            Directory.Delete(Path, recursive: false); // rmdir(2): a cgroup's interface files do not count
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        for (var depth = _parent.Length; depth > 0; depth--)
        {
            try
            {
                Directory.Delete(System.IO.Path.Combine([_hierarchy.MountPoint, .. _parent[..depth]]), recursive: false);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                break; // not empty (another VM's cgroup), or not ours to remove
            }
        }

        return true;
    }

    private void MakeDirectories(string member)
    {
        var dir = _hierarchy.MountPoint;
        foreach (var segment in _parent)
        {
            EnableCpu(dir, member);
            dir = System.IO.Path.Combine(dir, segment);
            Directory.CreateDirectory(dir);
        }

        EnableCpu(dir, member);
        if (Directory.Exists(Path))
        {
            // Left behind by a service that died; reuse it only if no process is in it.
            if (ReadProcesses(Path) is { Count: > 0 } pids)
            {
                throw new HcsException(HResults.ERROR_ALREADY_EXISTS, _operation, Id, result: ResultError.From(HResults.ERROR_ALREADY_EXISTS,
                    $"{member}: cannot be honoured: cgroup {Path} already exists and holds process {pids[0]}", "qemu.cgroup"));
            }
        }
        else
        {
            Directory.CreateDirectory(Path);
        }
    }

    /// <summary>v2 only: lets the children of <paramref name="dir"/> use the cpu controller.</summary>
    private void EnableCpu(string dir, string member)
    {
        if (_hierarchy.Version == CgroupVersion.V2)
        {
            WriteFile(System.IO.Path.Combine(dir, "cgroup.subtree_control"), "+cpu", member);
        }
    }

    private void Write(string name, string value, string member) => WriteFile(System.IO.Path.Combine(Path, name), value, member);

    private void WriteFile(string file, string value, string member)
    {
        try
        {
            // One write(2) of the whole value, as cgroup files require.
            File.WriteAllText(file, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(e, member, $"write '{value}' to {file}", file);
        }
    }

    private HcsException Failure(Exception e, string member, string action, string? file)
    {
        int hr;
        string why;
        if (file is not null && Directory.Exists(System.IO.Path.GetDirectoryName(file)) && !File.Exists(file))
        {
            hr = HResults.ERROR_NOT_SUPPORTED;
            why = $"the {_hierarchy.Version} cpu controller at {_hierarchy.MountPoint} has no {System.IO.Path.GetFileName(file)}";
        }
        else if (e is UnauthorizedAccessException)
        {
            hr = HResults.E_ACCESSDENIED;
            why = $"permission denied (cgroups need root or a delegated hierarchy): {e.Message}";
        }
        else
        {
            hr = HResults.E_FAIL;
            why = e.Message;
        }

        return new HcsException(hr, _operation, Id,
            result: ResultError.From(hr, $"{member}: cannot be honoured: could not {action}: {why}", "qemu.cgroup"), inner: e);
    }

    private static List<int> ReadProcesses(string dir)
    {
        try
        {
            return [.. File.ReadAllLines(System.IO.Path.Combine(dir, "cgroup.procs"))
                .Where(l => l.Length > 0).Select(l => int.Parse(l, NumberStyles.None, CultureInfo.InvariantCulture))];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
