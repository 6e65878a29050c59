// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Client;
using Hcs.Schema;

namespace Hcs.Bench;

/// <summary>
/// GetProperties on a running VM through the async client API (query serialised, document parsed on every call):
/// basic properties and Statistics, with 1 and 4 concurrent callers (each its own client session and handle).
/// </summary>
internal static class PropertiesBench
{
    public static async Task RunAsync(RunningVm running, TimeSpan duration)
    {
        Console.WriteLine($"## GetProperties on a running VM ({Stats.F(duration.TotalSeconds, 1)} s per configuration after a 0.5 s warm-up)");
        foreach (var callers in new[] { 1, 4 })
        {
            foreach (var statistics in new[] { false, true })
            {
                var clients = Enumerable.Range(0, callers).Select(i => HcsClient.Connect(running.Engine, $"bench-{i}")).ToList();
                var handles = new List<Client.ComputeSystem>();
                foreach (var client in clients)
                {
                    handles.Add(await Client.ComputeSystem.OpenAsync(client, RunningVm.Id));
                }

                SystemPropertyType[]? types = statistics ? [SystemPropertyType.Statistics] : null;
                await RunForAsync(handles, types, TimeSpan.FromMilliseconds(500));
                var (calls, latencies, elapsed) = await RunForAsync(handles, types, duration);
                var stats = new Stats(latencies);
                Console.WriteLine($"   {(statistics ? "Statistics" : "basic"),-10} callers={callers}  {Stats.F(calls / elapsed.TotalSeconds, 0),7} calls/s  per call p50 {Stats.F(stats.Median, 1),6} µs  p99 {Stats.F(stats.Percentile(99), 1),7} µs  (n={calls})");
                foreach (var handle in handles)
                {
                    await handle.DisposeAsync();
                }

                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        }
    }

    private static async Task<(long Calls, List<double> Latencies, TimeSpan Elapsed)> RunForAsync(List<Client.ComputeSystem> handles, SystemPropertyType[]? types, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var workers = handles.Select(handle => Task.Run(async () =>
        {
            var latencies = new List<double>(1 << 16);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                var properties = await handle.GetPropertiesAsync(types);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                if (properties.State != SystemState.Running || (types is not null && properties.Statistics is null))
                {
                    throw new InvalidOperationException("unexpected properties");
                }
            }

            return latencies;
        })).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        return (all.Count, all, clock.Elapsed);
    }
}
