// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux.Cgroups;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// A VM's CPU controls (<c>ComputeTopology.Processor.Count/Limit/Weight</c>) and the cgroup values they map to.
/// <list type="bullet">
/// <item><c>Limit</c> (1–100000, 100000 = all of the VM's processors) caps the whole QEMU process at
/// <c>Limit / 100000 × Count</c> CPUs: quota = <c>Limit / 100000 × Count × period</c> with a 100 ms period
/// (cgroup v1 <c>cpu.cfs_quota_us</c>/<c>cpu.cfs_period_us</c>, v2 <c>cpu.max</c>). The kernel's minimum quota is
/// 1 ms, so limits below 1% of one processor are raised to 1%. 100000 (or no Limit) is no quota at all, as in HCS,
/// where 100000 is the default: QEMU's I/O threads are not throttled on top of the vCPUs.</item>
/// <item><c>Weight</c> (0–10000, default 100) is a relative share among the VMs under the same cgroup parent:
/// v1 <c>cpu.shares</c> = <c>Weight × 1024 / 100</c> (100 ↔ 1024, the kernel's default) clamped to 2–262144;
/// v2 <c>cpu.weight</c> = <c>Weight</c> (whose default is also 100) clamped to 1–10000. Weight 0 is the smallest
/// share the kernel allows.</item>
/// </list>
/// </summary>
/// <param name="Count">Virtual processors (at least 1).</param>
/// <param name="Limit">The limit, or null for none.</param>
/// <param name="Weight">The weight, or null for the default.</param>
public sealed record CpuControls(uint Count, ulong? Limit, ulong? Weight)
{
    /// <summary>The CFS period, in microseconds (100 ms, the kernel's default).</summary>
    public const long PeriodMicroseconds = CgroupCpuLimits.DefaultPeriodMicroseconds;

    /// <summary>The smallest quota the kernel accepts (1 ms).</summary>
    public const long MinQuotaMicroseconds = CgroupCpuLimits.MinQuotaMicroseconds;

    /// <summary>The largest quota the kernel accepts (its 44-bit bandwidth limit, in microseconds).</summary>
    public const long MaxQuotaMicroseconds = CgroupCpuLimits.MaxQuotaMicroseconds;

    /// <summary>The HCS limit meaning 100% of the VM's processors.</summary>
    public const ulong FullLimit = 100_000;

    /// <summary>The kernel's <c>cpu.weight</c> range (v2).</summary>
    public const ulong MinCpuWeight = CgroupCpuLimits.MinWeight, MaxCpuWeight = CgroupCpuLimits.MaxWeight;

    /// <summary>The controls of a create document's processor section (Count defaults to 1).</summary>
    public static CpuControls From(VirtualMachineProcessor? processor) =>
        new(processor?.Count ?? 1, processor?.Limit, processor?.Weight);

    /// <summary>True if the document asks for a limit or a weight, so the VM needs a cgroup.</summary>
    public bool IsSet => Limit is not null || Weight is not null;

    /// <summary>These controls changed by a modify request: members it sets replace ours, members it omits are kept.</summary>
    public CpuControls With(ProcessorLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return this with { Limit = limits.Limit ?? Limit, Weight = limits.Weight ?? Weight };
    }

    /// <summary>The quota per period in microseconds, or null for no quota.</summary>
    public long? QuotaMicroseconds
    {
        get
        {
            if (Limit is not { } limit || limit >= FullLimit)
            {
                return null;
            }

            var quota = (UInt128)limit * Math.Max(Count, 1u) * PeriodMicroseconds / FullLimit;
            return quota < MinQuotaMicroseconds ? MinQuotaMicroseconds : quota > MaxQuotaMicroseconds ? MaxQuotaMicroseconds : (long)quota;
        }
    }

    /// <summary>cgroup v1 <c>cpu.shares</c>.</summary>
    public ulong Shares => CgroupCpuLimits.SharesFromWeight(Weight ?? 100);

    /// <summary>cgroup v2 <c>cpu.weight</c>.</summary>
    public ulong CpuWeight => Math.Clamp(Weight ?? 100, MinCpuWeight, MaxCpuWeight);

    /// <summary>What the VM's cgroup holds: the quota per 100 ms period (none: v1 <c>-1</c>, v2 <c>max</c>), shares (v1) and weight (v2).</summary>
    public CgroupCpuLimits CgroupLimits => new(QuotaMicroseconds, PeriodMicroseconds, Shares, CpuWeight);
}
