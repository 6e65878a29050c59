// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// A VM's CPU limits: its <see cref="CpuControls"/> and the cgroup that enforces them (<c>parent/NAME</c> in the
/// hierarchy holding the cpu controller, NAME being the VM's runtime name: <c>/sys/fs/cgroup/cpu/hcs/vm1</c> on a v1
/// host, <c>/sys/fs/cgroup/hcs/vm1</c> on v2). A VM created with Limit or Weight gets its cgroup before QEMU is spawned
/// (<see cref="CreateCgroup"/>); QEMU's pid is then written to <c>cgroup.procs</c>, which moves all its threads, while
/// it is still paused (<c>-S</c>), so the guest never runs outside its limits. <see cref="Modify"/> applies a
/// <c>ProcessorLimits</c> update, creating the cgroup (and moving QEMU in) for a VM that had none;
/// <see cref="ReleaseAsync"/> removes it once QEMU has been reaped, with every parent left empty (runtimes leave them
/// behind). Every failure is an <see cref="HcsException"/> naming the document member the cgroup honours:
/// <c>E_ACCESSDENIED</c> when the hierarchy is not writable (not root, no delegation), <c>ERROR_NOT_SUPPORTED</c> when
/// the controller lacks a file (e.g. a kernel without CFS bandwidth control), <c>ERROR_ALREADY_EXISTS</c> when a cgroup
/// of that name already holds processes, <c>E_FAIL</c> for any other refusal by the kernel (with its reason).
/// </summary>
internal sealed class QemuCpuControls
{
    private const string Label = "QemuBackend.Modify";
    private const string Source = "qemu.cgroup";

    private readonly Lock _gate = new();
    private readonly Func<CpuControls, string, Cgroup> _createCgroup;
    private readonly string _id;
    private readonly int _pid;
    private readonly Func<bool> _systemReleased;
    private State _state; // written under _gate, read without it (an immutable snapshot)
    private bool _released; // guarded by _gate

    /// <summary>
    /// The controls of VM <paramref name="id"/> (QEMU's <paramref name="pid"/>), in <paramref name="cgroup"/> if it has
    /// one. <paramref name="createCgroup"/> makes the VM's cgroup with the given controls, failures naming the given member
    /// (<see cref="QemuBackend.CreateCgroup"/>). <paramref name="systemReleased"/> tells whether the VM was released or detached (then Modify is refused); it is
    /// called with this object's lock held and may take the system's lock, which is why <see cref="Facts"/> (read under the
    /// system's lock) takes none.
    /// </summary>
    public QemuCpuControls(string id, int pid, CpuControls controls, Cgroup? cgroup, Func<CpuControls, string, Cgroup> createCgroup, Func<bool> systemReleased)
    {
        _createCgroup = createCgroup;
        _id = id;
        _pid = pid;
        _systemReleased = systemReleased;
        _state = new State(controls, cgroup);
    }

    /// <summary>The runtime facts of the controls: whether the VM has a cgroup, and the Limit and Weight it holds.</summary>
    public (bool HasCgroup, ulong? Limit, ulong? Weight) Facts
    {
        get
        {
            var state = Volatile.Read(ref _state);
            return state.Cgroup is null ? (false, null, null) : (true, state.Controls.Limit, state.Controls.Weight);
        }
    }

    /// <summary>The cgroup the VM is in, or null.</summary>
    public Cgroup? Cgroup => Volatile.Read(ref _state).Cgroup;

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

    /// <summary>The cgroup <c>parent/name</c> of the cpu controller in <paramref name="hierarchy"/> (nothing is created).</summary>
    public static Cgroup CgroupOf(CgroupHierarchy hierarchy, string parent, string name)
    {
        ArgumentNullException.ThrowIfNull(hierarchy);
        return hierarchy.Cgroup($"{parent}/{name}", "cpu");
    }

    /// <summary>
    /// Creates (or reuses, when it exists with no processes) the cgroup <c>parent/name</c> and writes
    /// <paramref name="controls"/>. Failures name <paramref name="member"/> and carry <paramref name="operation"/> and
    /// system <paramref name="id"/>; a failed Create leaves no directory it made.
    /// </summary>
    public static Cgroup CreateCgroup(CgroupHierarchy hierarchy, string parent, string name, CpuControls controls, string member, string operation, string id)
    {
        ArgumentNullException.ThrowIfNull(controls);
        var cgroup = CgroupOf(hierarchy, parent, name);
        try
        {
            cgroup.Create();
        }
        catch (CgroupException e)
        {
            if (e.Kind != CgroupErrorKind.Busy)
            {
                cgroup.TryRemove(Ancestors(cgroup)); // the parents this attempt created, if they are empty
            }

            throw Failure(e, member, operation, id);
        }

        try
        {
            Apply(cgroup, controls, member, operation, id);
        }
        catch
        {
            cgroup.TryRemove(Ancestors(cgroup));
            throw;
        }

        return cgroup;
    }

    /// <summary>Moves QEMU (<paramref name="pid"/>, all its threads) into <paramref name="cgroup"/>; failures name <paramref name="member"/>.</summary>
    public static void AddProcess(Cgroup cgroup, int pid, string member, string operation, string id)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        try
        {
            cgroup.AddProcess(pid);
        }
        catch (CgroupException e)
        {
            throw Failure(e, member, operation, id);
        }
    }

    /// <summary>
    /// Removes <paramref name="cgroup"/> once its processes are gone (retrying briefly: the kernel may still be tearing
    /// down the last exiting task), then each parent left empty. Returns false if it could not be removed.
    /// </summary>
    public static async Task<bool> RemoveAsync(Cgroup cgroup, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        ArgumentNullException.ThrowIfNull(time);
        for (var attempt = 1; ; attempt++)
        {
            if (cgroup.TryRemove(Ancestors(cgroup)))
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
    /// Applies a <c>ProcessorLimits</c> update: members set replace the current Limit/Weight, members omitted are kept.
    /// A VM created without CPU controls gets its cgroup now (QEMU, all threads, is moved into it).
    /// </summary>
    public void Modify(ModifySettingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestType is not (null or ModifyRequestType.Update))
        {
            throw HcsException.InvalidJson("$.RequestType", $"processor limits can only be updated (RequestType Update or omitted), not {request.RequestType}");
        }

        if (request.GuestRequest is not null)
        {
            throw HcsException.InvalidJson("$.GuestRequest", "there is no guest agent to forward a guest request to");
        }

        var limits = request.Settings is { } settings
            ? HcsJson.Deserialize<ProcessorLimits>(settings, "$.Settings")
            : throw HcsException.InvalidJson("$.Settings", "required member 'Settings' (ProcessorLimits) is missing");
        if (limits.Reservation is not null)
        {
            throw HcsException.InvalidJson("$.Settings.Reservation", "CPU reservations are not supported (cgroups cannot reserve CPU time)");
        }

        if (limits.MaximumFrequencyMHz is not null)
        {
            throw HcsException.InvalidJson("$.Settings.MaximumFrequencyMHz", "processor frequency caps are not supported");
        }

        var member = $"$.Settings.{(limits.Limit is not null ? "Limit" : "Weight")}";
        lock (_gate)
        {
            if (_released || _systemReleased())
            {
                throw new HcsException(HResults.HCS_E_INVALID_STATE, Label, _id);
            }

            var (controls, cgroup) = _state;
            var next = controls.With(limits);
            if (cgroup is not null)
            {
                Apply(cgroup, next, member, Label, _id);
            }
            else if (next.IsSet)
            {
                cgroup = _createCgroup(next, member);
                try
                {
                    AddProcess(cgroup, _pid, member, Label, _id);
                }
                catch
                {
                    cgroup.TryRemove(Ancestors(cgroup));
                    throw;
                }
            }

            Volatile.Write(ref _state, new State(next, cgroup));
        }
    }

    /// <summary>Ends the controls (Modify is refused from now on) and removes the cgroup, with its empty parents; QEMU has been reaped.</summary>
    public async Task ReleaseAsync(TimeProvider time)
    {
        Cgroup? cgroup;
        lock (_gate)
        {
            _released = true;
            cgroup = _state.Cgroup;
            Volatile.Write(ref _state, _state with { Cgroup = null });
        }

        if (cgroup is not null)
        {
            await RemoveAsync(cgroup, time).ConfigureAwait(false);
        }
    }

    /// <summary>Writes <paramref name="controls"/> to <paramref name="cgroup"/> (v1: period, quota, shares; v2: <c>cpu.max</c>, <c>cpu.weight</c>).</summary>
    private static void Apply(Cgroup cgroup, CpuControls controls, string member, string operation, string id)
    {
        try
        {
            cgroup.SetCpuLimits(controls.CgroupLimits);
        }
        catch (CgroupException e)
        {
            throw Failure(e, member, operation, id);
        }
    }

    /// <summary>All ancestors of a VM's cgroup are its parent setting's (removed when left empty).</summary>
    private static int Ancestors(Cgroup cgroup) => cgroup.Path.Count(c => c == '/') - 1;

    private static HcsException Failure(CgroupException e, string member, string operation, string id)
    {
        var hr = e.Kind switch
        {
            CgroupErrorKind.AccessDenied => HResults.E_ACCESSDENIED,
            CgroupErrorKind.NotSupported => HResults.ERROR_NOT_SUPPORTED,
            CgroupErrorKind.Busy => HResults.ERROR_ALREADY_EXISTS,
            _ => HResults.E_FAIL,
        };
        return new HcsException(hr, operation, id, result: ResultError.From(hr, $"{member}: cannot be honoured: {e.Message}", Source), inner: e);
    }

    private sealed record State(CpuControls Controls, Cgroup? Cgroup);
}
