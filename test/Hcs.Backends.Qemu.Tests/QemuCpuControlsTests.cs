// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Hcs.Linux.Tests.Cgroups;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// <see cref="QemuCpuControls"/>, a VM's CPU limits, on trees laid out like a v2 and a hybrid host (no VM, no QEMU): a
/// <c>ProcessorLimits</c> update creates the cgroup of a VM that had none and moves QEMU in, changes the one it has
/// keeping the members it omits, is refused before anything is written when it asks for what a cgroup cannot do, and
/// is refused once the VM is released, which removes the cgroup with its empty parent.
/// </summary>
public sealed class QemuCpuControlsTests : IDisposable
{
    private const int QemuPid = 4242;
    private readonly FakeCgroupTree _v2 = FakeCgroupTree.V2Host();
    private readonly FakeCgroupTree _v1 = FakeCgroupTree.HybridHost();
    private bool _systemReleased;

    public void Dispose()
    {
        _v2.Dispose();
        _v1.Dispose();
    }

    private QemuCpuControls Controls(FakeCgroupTree tree, CpuControls controls, Cgroup? cgroup = null)
    {
        var hierarchy = tree.Open();
        return new QemuCpuControls("vm1", QemuPid, controls, cgroup,
            (next, member) => QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", next, member, "QemuBackend.Modify", "vm1"), () => _systemReleased);
    }

    private static ModifySettingRequest Limits(ProcessorLimits limits, ModifyRequestType? type = null) => new()
    {
        ResourcePath = QemuSystem.ProcessorLimitsPath,
        RequestType = type,
        Settings = HcsJson.SerializeToElement(limits),
    };

    [Fact]
    public void Modify_OfAVmWithoutACgroup_CreatesItWithTheLimits_AndMovesQemuIn()
    {
        var controls = Controls(_v2, new CpuControls(2, null, null));
        Assert.Equal((false, (ulong?)null, (ulong?)null), controls.Facts);

        controls.Modify(Limits(new ProcessorLimits { Limit = 50_000 }));

        Assert.Equal("+cpu", _v2.Read("hcs/cgroup.subtree_control"));
        Assert.Equal("100000 100000", _v2.Read("hcs/vm1/cpu.max")); // 50% of 2 processors
        Assert.Equal("100", _v2.Read("hcs/vm1/cpu.weight"));
        Assert.Equal(QemuPid.ToString(System.Globalization.CultureInfo.InvariantCulture), _v2.Read("hcs/vm1/cgroup.procs"));
        Assert.Equal((true, (ulong?)50_000, (ulong?)null), controls.Facts);
    }

    [Fact]
    public void Modify_OfAVmWithACgroup_ReplacesTheMembersItSets_AndKeepsTheOthers()
    {
        var hierarchy = _v1.Open();
        var cgroup = QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", new CpuControls(1, 25_000, 200), "$.Limit", "test", "vm1");
        var controls = Controls(_v1, new CpuControls(1, 25_000, 200), cgroup);

        controls.Modify(Limits(new ProcessorLimits { Weight = 400 }, ModifyRequestType.Update));

        Assert.Equal("25000", _v1.Read("cpu,cpuacct/hcs/vm1/cpu.cfs_quota_us"));
        Assert.Equal("4096", _v1.Read("cpu,cpuacct/hcs/vm1/cpu.shares"));
        Assert.Equal((true, (ulong?)25_000, (ulong?)400), controls.Facts);
    }

    [Theory]
    [InlineData("add")]
    [InlineData("reservation")]
    [InlineData("frequency")]
    [InlineData("no settings")]
    [InlineData("limit 0")]
    public void Modify_AskingForWhatACgroupCannotDo_IsInvalidJson_AndWritesNothing(string request)
    {
        var controls = Controls(_v2, new CpuControls(1, null, null));
        var (modify, member) = request switch
        {
            "add" => (Limits(new ProcessorLimits { Limit = 50_000 }, ModifyRequestType.Add), "$.RequestType"),
            "reservation" => (Limits(new ProcessorLimits { Limit = 50_000, Reservation = 10_000 }), "$.Settings.Reservation"),
            "frequency" => (Limits(new ProcessorLimits { MaximumFrequencyMHz = 1000 }), "$.Settings.MaximumFrequencyMHz"),
            "no settings" => (Limits(new ProcessorLimits()) with { Settings = null }, "$.Settings"),
            _ => (Limits(new ProcessorLimits { Limit = 0 }), "$.Settings.Limit"),
        };

        var e = Assert.Throws<HcsException>(() => controls.Modify(modify));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains($"{member}: ", e.Message, StringComparison.Ordinal);
        Assert.False(_v2.Exists("hcs"), "a refused request must not create the cgroup");
        Assert.False(controls.Facts.HasCgroup);
    }

    [Fact]
    public void Modify_OnceTheSystemIsReleased_IsInvalidState()
    {
        var controls = Controls(_v2, new CpuControls(1, null, null));
        _systemReleased = true;

        var e = Assert.Throws<HcsException>(() => controls.Modify(Limits(new ProcessorLimits { Weight = 10 })));

        Assert.Equal(HResults.HCS_E_INVALID_STATE, e.HResult);
        Assert.False(_v2.Exists("hcs"));
    }

    [Fact]
    public async Task Release_RemovesTheCgroupAndItsEmptyParent_AndRefusesLaterModifies()
    {
        var controls = Controls(_v2, new CpuControls(1, null, null));
        controls.Modify(Limits(new ProcessorLimits { Weight = 10 }));
        _v2.Empty("hcs/vm1"); // QEMU was reaped (and, on this fake tree, the interface files go: rmdir of a real cgroup ignores them)
        _v2.Empty("hcs");

        await controls.ReleaseAsync(TimeProvider.System);

        Assert.False(_v2.Exists("hcs"));
        Assert.Equal((false, (ulong?)null, (ulong?)null), controls.Facts);
        Assert.Equal(HResults.HCS_E_INVALID_STATE, Assert.Throws<HcsException>(() => controls.Modify(Limits(new ProcessorLimits { Weight = 10 }))).HResult);
    }

    [Fact]
    public void Modify_WhereMovingQemuFails_RemovesTheCgroupItMade_AndNamesTheMember()
    {
        var controls = Controls(_v2, new CpuControls(1, null, null));
        var hierarchy = _v2.Open();
        var failing = new QemuCpuControls("vm1", QemuPid, new CpuControls(1, null, null), null, (next, member) =>
        {
            var cgroup = QemuCpuControls.CreateCgroup(hierarchy, "hcs", "vm1", next, member, "QemuBackend.Modify", "vm1");
            File.Delete(Path.Combine(_v2.Root, "hcs", "vm1", "cgroup.procs"));
            return cgroup;
        }, () => false);

        var e = Assert.Throws<HcsException>(() => failing.Modify(Limits(new ProcessorLimits { Weight = 10 })));

        Assert.Equal(HResults.ERROR_NOT_SUPPORTED, e.HResult);
        Assert.Contains("$.Settings.Weight: cannot be honoured: could not write '4242' to ", e.Message, StringComparison.Ordinal);
        Assert.False(failing.Facts.HasCgroup);
        Assert.False(controls.Facts.HasCgroup);
    }
}
