// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>
/// CPU time used by a cgroup's processes, in nanoseconds: v1 <c>cpuacct.usage</c> and <c>cpuacct.stat</c>
/// user/system (USER_HZ = 100 ticks, so 10 ms steps); v2 <c>cpu.stat</c> <c>usage_usec</c>/<c>user_usec</c>/<c>system_usec</c>.
/// <see cref="ThrottledPeriods"/> is <c>cpu.stat</c> <c>nr_throttled</c> in both versions. Members that could not be
/// read are null.
/// </summary>
/// <param name="UsageNanoseconds">Total CPU time.</param>
/// <param name="UserNanoseconds">CPU time in user mode.</param>
/// <param name="SystemNanoseconds">CPU time in kernel mode.</param>
/// <param name="ThrottledPeriods">Periods in which the quota held the cgroup back.</param>
public sealed record CgroupCpuUsage(ulong? UsageNanoseconds, ulong? UserNanoseconds, ulong? SystemNanoseconds, ulong? ThrottledPeriods);

/// <summary>
/// Memory charged to a cgroup, in bytes: v1 <c>memory.usage_in_bytes</c>, <c>memory.max_usage_in_bytes</c>,
/// <c>memory.stat</c> <c>total_rss</c> (or <c>rss</c>); v2 <c>memory.current</c>, <c>memory.peak</c> (kernel ≥ 5.19),
/// <c>memory.stat</c> <c>anon</c>. Members that could not be read are null.
/// </summary>
/// <param name="CurrentBytes">Memory in use now (page cache included).</param>
/// <param name="PeakBytes">The most ever in use.</param>
/// <param name="AnonymousBytes">Anonymous (private) memory: the resident set that is not file-backed.</param>
public sealed record CgroupMemoryUsage(ulong? CurrentBytes, ulong? PeakBytes, ulong? AnonymousBytes);

/// <summary>
/// Block I/O of a cgroup, summed over devices: v1 <c>blkio.throttle.io_service_bytes</c>/<c>io_serviced</c> (the Read
/// and Write lines; Total lines are not counted); v2 <c>io.stat</c> <c>rbytes</c>/<c>wbytes</c>/<c>rios</c>/<c>wios</c>.
/// Members that could not be read are null.
/// </summary>
/// <param name="ReadBytes">Bytes read.</param>
/// <param name="WriteBytes">Bytes written.</param>
/// <param name="Reads">Read operations.</param>
/// <param name="Writes">Write operations.</param>
public sealed record CgroupIoUsage(ulong? ReadBytes, ulong? WriteBytes, ulong? Reads, ulong? Writes);
