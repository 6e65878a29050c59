// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Bench;

/// <summary>Order statistics of a sample (nearest-rank percentiles; the median interpolates an even count).</summary>
internal sealed class Stats
{
    private readonly double[] _sorted;

    public Stats(IEnumerable<double> values)
    {
        _sorted = [.. values.Order()];
    }

    public int N => _sorted.Length;

    public double Min => _sorted.Length == 0 ? double.NaN : _sorted[0];

    public double Max => _sorted.Length == 0 ? double.NaN : _sorted[^1];

    public double Median => _sorted.Length == 0 ? double.NaN
        : _sorted.Length % 2 == 1 ? _sorted[_sorted.Length / 2]
        : (_sorted[(_sorted.Length / 2) - 1] + _sorted[_sorted.Length / 2]) / 2;

    /// <summary>Nearest-rank percentile (p in 0–100).</summary>
    public double Percentile(double p)
    {
        if (_sorted.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100 * _sorted.Length);
        return _sorted[Math.Clamp(rank - 1, 0, _sorted.Length - 1)];
    }

    /// <summary>"median (min–max)" with <paramref name="digits"/> decimals.</summary>
    public string MedianRange(int digits = 1) =>
        $"{F(Median, digits)} ({F(Min, digits)}–{F(Max, digits)})";

    public static string F(double value, int digits = 1) => value.ToString("F" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
