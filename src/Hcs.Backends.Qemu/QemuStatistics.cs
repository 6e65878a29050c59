// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;

namespace Hcs.Backends.Qemu;

/// <summary>
/// CPU time (100 ns units) and resident memory of a QEMU process, from one small synchronous procfs read of
/// <c>/proc/PID/stat</c> (no QMP round trip, no thread-pool hop). procfs counts CPU time in 10 ms ticks
/// (USER_HZ = 100), so a sample younger than that is reused: a burst of queries reads procfs at most 100 times a
/// second. A process that is gone reads as zeros.
/// </summary>
internal sealed class QemuStatistics
{
    /// <summary>How long a sample is reused (one procfs tick).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMilliseconds(10);

    private readonly int _pid;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private (ulong Cpu, ulong Rss) _sample; // guarded by _gate
    private long? _sampledAt; // guarded by _gate: when _sample was read (TimeProvider timestamp)

    /// <summary>Statistics of process <paramref name="pid"/>, timed by <paramref name="time"/>.</summary>
    public QemuStatistics(int pid, TimeProvider time)
    {
        _pid = pid;
        _time = time;
    }

    /// <summary>CPU time (user + system, 100 ns units) and resident set size (bytes).</summary>
    public (ulong Cpu, ulong Rss) Sample()
    {
        var now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_sampledAt is { } at && _time.GetElapsedTime(at, now) < Lifetime)
            {
                return _sample;
            }
        }

        (ulong Cpu, ulong Rss) sample = (0, 0);
        try
        {
            using var handle = File.OpenHandle($"/proc/{_pid}/stat");
            Span<byte> buffer = stackalloc byte[1024];
            var stat = Encoding.ASCII.GetString(buffer[..RandomAccess.Read(handle, buffer, 0)]);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = ulong.Parse(fields[11], CultureInfo.InvariantCulture) + ulong.Parse(fields[12], CultureInfo.InvariantCulture);
            sample = (ticks * 100_000, // one tick is 10 ms = 100,000 × 100 ns
                ulong.Parse(fields[21], CultureInfo.InvariantCulture) * (ulong)Environment.SystemPageSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The process is gone: report zeros.
        }

        lock (_gate)
        {
            (_sample, _sampledAt) = (sample, now);
        }

        return sample;
    }
}
