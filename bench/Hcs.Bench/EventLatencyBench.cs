// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Diagnostics;
using Hcs.Backends.Qemu;
using Hcs.Client;
using Hcs.Schema;

namespace Hcs.Bench;

/// <summary>
/// Latency from a QMP event to the client: QEMU stamps each event with the wall clock (µs); the receiver reads the wall
/// clock when it gets it. Source: remote console sessions (RFB handshake, hang up) on one running VM, one session at a
/// time, each waited for until its VNC_DISCONNECTED has arrived, so samples do not queue behind each other.
/// Receivers: the flat API's event callback (HcsSetComputeSystemCallback), the async event stream
/// (ComputeSystem.EventsAsync), and, as the floor, a bare QMP reader on the same argv run by hand.
/// </summary>
internal static class EventLatencyBench
{
    private const int WarmUp = 10;

    private const int Block = 50;

    public static async Task HcsAsync(RunningVm running, int sessions, bool verbose)
    {
        Console.WriteLine($"## event latency: QMP VNC_* event timestamp → receiver ({sessions} sessions = {sessions * 3} events per receiver, after {WarmUp} warm-up sessions; the two hcs receivers alternate in blocks of {Block} sessions, each block on a fresh handle)");
        var callback = new List<double>();
        var stream = new List<double>();
        TimeSpan callbackTime = TimeSpan.Zero, streamTime = TimeSpan.Zero;
        await CallbackBlockAsync(running, WarmUp); // warm-up, discarded
        await StreamBlockAsync(running, WarmUp);
        for (var done = 0; done < sessions; done += Block)
        {
            var n = Math.Min(Block, sessions - done);
            var clock = Stopwatch.StartNew();
            callback.AddRange(await CallbackBlockAsync(running, n));
            callbackTime += clock.Elapsed;
            clock.Restart();
            stream.AddRange(await StreamBlockAsync(running, n));
            streamTime += clock.Elapsed;
        }

        Report("hcs callback (flat API)", callback, callbackTime, verbose);
        Report("hcs async stream (EventsAsync)", stream, streamTime, verbose);
    }

    /// <summary><paramref name="sessions"/> console sessions received by the flat API's callback on a handle of its own.</summary>
    private static async Task<List<double>> CallbackBlockAsync(RunningVm running, int sessions)
    {
        var samples = new ConcurrentQueue<(DateTimeOffset At, string? Data)>();
        using var disconnected = new SemaphoreSlim(0);
        HcsSystem? system;
        using (HcsClient.Use(running.Client))
        {
            Check(ComputeCore.HcsOpenComputeSystem(RunningVm.Id, ComputeCore.GENERIC_ALL, out system));
            Check(ComputeCore.HcsSetComputeSystemCallback(system, HcsEventOptions.None, null, (e, _) =>
            {
                if (e.Type == HcsEventType.SystemRdpEnhancedModeStateChanged)
                {
                    samples.Enqueue((TimeProvider.System.GetUtcNow(), e.EventData));
                    if (e.EventData!.Contains("\"Disconnected\"", StringComparison.Ordinal))
                    {
                        disconnected.Release();
                    }
                }
            }));
        }

        try
        {
            await SessionsAsync(running.ConsoleEndpoint, sessions, disconnected);
        }
        finally
        {
            ComputeCore.HcsCloseComputeSystem(system);
        }

        return Latencies(samples);
    }

    /// <summary><paramref name="sessions"/> console sessions received through ComputeSystem.EventsAsync on a handle of its own.</summary>
    private static async Task<List<double>> StreamBlockAsync(RunningVm running, int sessions)
    {
        var samples = new ConcurrentQueue<(DateTimeOffset At, string? Data)>();
        using var disconnected = new SemaphoreSlim(0);
        await using var handle = await Client.ComputeSystem.OpenAsync(running.Client, RunningVm.Id);
        using var stop = new CancellationTokenSource();
        var events = handle.EventsAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        var first = events.MoveNextAsync(); // subscribes now
        var reader = Task.Run(async () =>
        {
            try
            {
                for (var next = first; await next; next = events.MoveNextAsync())
                {
                    var e = events.Current;
                    if (e.Type == HcsEventType.SystemRdpEnhancedModeStateChanged)
                    {
                        samples.Enqueue((TimeProvider.System.GetUtcNow(), e.EventData));
                        if (e.EventData!.Contains("\"Disconnected\"", StringComparison.Ordinal))
                        {
                            disconnected.Release();
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Done.
            }
        });
        try
        {
            await SessionsAsync(running.ConsoleEndpoint, sessions, disconnected);
        }
        finally
        {
            await stop.CancelAsync();
            await reader;
            await events.DisposeAsync();
        }

        return Latencies(samples);
    }

    public static async Task RawAsync(int sessions, bool verbose)
    {
        var run = Directory.CreateTempSubdirectory("hcs-bench-raw-");
        Directory.Delete(run.FullName);
        var qemu = await RawQemu.StartAsync(RunningVm.Id, BenchGuest.Document("idle", RunningVm.ConsoleDevices), run.FullName);
        try
        {
            await using var console = await ConsoleTap.ConnectAsync(Path.Combine(run.FullName, QemuCommandLine.ConsoleSocket), Stopwatch.StartNew());
            await qemu.ExecuteAsync("cont");
            await console.Idle.WaitAsync(TimeSpan.FromMinutes(3));
            var samples = new ConcurrentQueue<(DateTimeOffset At, DateTimeOffset Stamp)>();
            using var disconnected = new SemaphoreSlim(0);
            var reader = Task.Run(async () =>
            {
                while (await qemu.ReadEventAsync() is { } e)
                {
                    var name = e.GetProperty("event").GetString();
                    if (name is "VNC_CONNECTED" or "VNC_INITIALIZED" or "VNC_DISCONNECTED")
                    {
                        samples.Enqueue((TimeProvider.System.GetUtcNow(), RawQemu.Timestamp(e)));
                        if (name == "VNC_DISCONNECTED")
                        {
                            disconnected.Release();
                        }
                    }
                }
            });
            var clock = Stopwatch.StartNew();
            await SessionsAsync(Path.Combine(run.FullName, QemuCommandLine.VncSocket), sessions + WarmUp, disconnected);
            var elapsed = clock.Elapsed;
            Report("raw QMP reader (floor)", samples.Skip(WarmUp * 3).Select(s => (s.At - s.Stamp).TotalMicroseconds).ToList(), elapsed, verbose);
            await qemu.DisposeAsync();
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch
        {
            await qemu.DisposeAsync();
            throw;
        }
    }

    private static async Task SessionsAsync(string endpoint, int sessions, SemaphoreSlim disconnected)
    {
        for (var i = 0; i < sessions; i++)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await Rfb.SessionAsync(endpoint, timeout.Token);
            if (!await disconnected.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"session {i}: no VNC_DISCONNECTED event within 10 s");
            }
        }
    }

    private static List<double> Latencies(IEnumerable<(DateTimeOffset At, string? Data)> samples) =>
    [
        .. samples.Select(s => (s.At - HcsJson.Deserialize<RemoteConsoleStateChange>(s.Data!).Timestamp!.Value).TotalMicroseconds),
    ];

    private static void Report(string receiver, List<double> latencies, TimeSpan elapsed, bool verbose)
    {
        var stats = new Stats(latencies);
        Console.WriteLine($"   {receiver,-32} n={stats.N,4}  p50 {Stats.F(stats.Median, 0),5} µs  p90 {Stats.F(stats.Percentile(90), 0),5} µs  p99 {Stats.F(stats.Percentile(99), 0),6} µs  max {Stats.F(stats.Max, 0),6} µs  ({Stats.F(elapsed.TotalSeconds, 1)} s)");
        if (verbose)
        {
            Console.WriteLine($"      samples (µs): {string.Join(' ', latencies.Select(l => Stats.F(l, 0)))}");
        }
    }

    private static void Check(int hr)
    {
        if (hr < 0)
        {
            throw new HcsException(hr, "bench");
        }
    }
}
