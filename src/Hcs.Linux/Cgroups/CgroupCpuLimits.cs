// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>
/// A cgroup's CPU bandwidth and relative share. Written by <see cref="Cgroup.SetCpuLimits"/>: v1
/// <c>cpu.cfs_period_us</c>, <c>cpu.cfs_quota_us</c> (<c>-1</c> for no quota) and <c>cpu.shares</c>; v2
/// <c>cpu.max</c> (<c>"quota period"</c> or <c>"max period"</c>) and <c>cpu.weight</c>. A member left null is not
/// written, except that v2 given only <see cref="Shares"/> writes <see cref="WeightFromShares"/> of it (runc's
/// conversion). Read back by <see cref="Cgroup.ReadCpuLimits"/>, which fills <see cref="Shares"/> on v1 and
/// <see cref="Weight"/> on v2.
/// </summary>
/// <param name="QuotaMicroseconds">CPU time the cgroup may use per period, or null for no quota.</param>
/// <param name="PeriodMicroseconds">The CFS period.</param>
/// <param name="Shares">v1 <c>cpu.shares</c> (2–262144, default 1024).</param>
/// <param name="Weight">v2 <c>cpu.weight</c> (1–10000, default 100).</param>
public sealed record CgroupCpuLimits(long? QuotaMicroseconds, long PeriodMicroseconds = CgroupCpuLimits.DefaultPeriodMicroseconds,
    ulong? Shares = null, ulong? Weight = null)
{
    /// <summary>The kernel's default CFS period, in microseconds (100 ms).</summary>
    public const long DefaultPeriodMicroseconds = 100_000;

    /// <summary>The smallest quota the kernel accepts (1 ms).</summary>
    public const long MinQuotaMicroseconds = 1_000;

    /// <summary>The largest quota the kernel accepts (its 44-bit bandwidth limit, in microseconds).</summary>
    public const long MaxQuotaMicroseconds = (1L << 44) - 1;

    /// <summary>The kernel's <c>cpu.shares</c> range (v1); 1024 is its default.</summary>
    public const ulong MinShares = 2, MaxShares = 262_144, DefaultShares = 1024;

    /// <summary>The kernel's <c>cpu.weight</c> range (v2); 100 is its default.</summary>
    public const ulong MinWeight = 1, MaxWeight = 10_000, DefaultWeight = 100;

    /// <summary>
    /// v1 <c>cpu.shares</c> for a relative weight whose default is 100 (as <c>cpu.weight</c>'s and HCS's are):
    /// <c>weight × 1024 / 100</c> (100 ↔ 1024, the kernel's default) clamped to 2–262144.
    /// </summary>
    public static ulong SharesFromWeight(ulong weight) => Math.Clamp(Math.Min(weight, MaxShares) * DefaultShares / 100, MinShares, MaxShares);

    /// <summary>
    /// v2 <c>cpu.weight</c> for v1 <c>cpu.shares</c>, as runc converts a <c>config.json</c>'s <c>shares</c> on a v2
    /// host: <c>1 + (shares − 2) × 9999 / 262142</c> (2 → 1, 262144 → 10000; 1024 → 39, not 100); 0 (unset) stays 0.
    /// </summary>
    public static ulong WeightFromShares(ulong shares) =>
        shares == 0 ? 0 : 1 + ((Math.Clamp(shares, MinShares, MaxShares) - 2) * 9_999 / 262_142);
}
