// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Backends.Qemu;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Bench;

/// <summary>
/// Create → start → the guest powers off at once (<c>hcstest=poweroff:0</c>) → exit notification, through hcs (engine
/// embedded, QEMU backend, client API) and by hand (the same argv, spawned directly, QMP <c>cont</c>, wait for the
/// SHUTDOWN event), alternated hcs/raw/raw/hcs… after one discarded warm-up of each.
/// </summary>
internal static class LifecycleBench
{
    /// <summary>One run; every time is from the run's start (the create call or the spawn) except <see cref="Start"/>, a duration.</summary>
    private sealed record Run(string Side, TimeSpan Create, TimeSpan Start, TimeSpan StartedAt, TimeSpan? InitAt, TimeSpan Exit, TimeSpan Cleaned, double? GuestUptime,
        TimeSpan BenchCpu)
    {
        /// <summary>Start returned → /init's first line on the console: the guest's boot.</summary>
        public TimeSpan? Boot => InitAt - StartedAt;

        /// <summary>Everything but the guest's own boot: the part hcs can add to.</summary>
        public TimeSpan? Overhead => Boot is { } boot ? Exit - boot : null;

        /// <summary>From /init's first line to the exit notification: the guest's poweroff, QEMU's SHUTDOWN, delivery.</summary>
        public TimeSpan? Tail => Exit - InitAt;
    }

    public static async Task RunAsync(int runs, bool verbose, string? calibrate = null)
    {
        Console.WriteLine($"## lifecycle: create → start → guest poweroff → exit notification ({runs} runs each, alternating, 1 warm-up each)"
            + (calibrate is null ? "" : $" — CALIBRATION: both columns are {calibrate}"));
        var root = Directory.CreateTempSubdirectory("hcs-bench-lc-");
        try
        {
            await using var engine = new ComputeEngine([new QemuBackend(new QemuSettings(), Path.Combine(root.FullName, "hcs"))]);
            await using var client = HcsClient.Connect(engine, "hcs-bench");
            var all = new List<Run>();
            var pairs = new List<double>();
            var sequence = new List<bool> { true, false }; // warm-up: hcs, raw
            for (var i = 0; i < runs; i++)
            {
                sequence.AddRange(i % 2 == 0 ? [true, false] : [false, true]);
            }

            for (var i = 0; i < sequence.Count; i++)
            {
                var id = $"lc{i}";
                // --calibrate raw|hcs runs the same path on both sides (an A/A test): what the ratio does by noise alone.
                var hcsRun = calibrate switch { "raw" => false, "hcs" => true, _ => sequence[i] };
                var measured = hcsRun ? await HcsOnceAsync(client, Path.Combine(root.FullName, "hcs"), id) : await RawOnceAsync(Path.Combine(root.FullName, "raw", id), id);
                var run = measured with { Side = sequence[i] ? "hcs" : "raw" };
                if (i >= 2)
                {
                    all.Add(run);
                    if (i % 2 == 1)
                    {
                        var (a, b) = (all[^2], all[^1]);
                        pairs.Add(a.Side == "hcs" ? a.Exit / b.Exit : b.Exit / a.Exit);
                    }
                }

                if (verbose)
                {
                    Console.WriteLine($"   {(i < 2 ? "warm-up " : "")}{run.Side,-4} create {Ms(run.Create)} start {Ms(run.Start)} boot {Ms(run.Boot)} exit {Ms(run.Exit)} cleaned {Ms(run.Cleaned)} overhead {Ms(run.Overhead)} guest-uptime-at-init {run.GuestUptime:F2}s bench-cpu-while-running {Ms(run.BenchCpu)}");
                }
            }

            Console.WriteLine("   (ms)                         hcs median (min–max)        raw median (min–max)        hcs − raw");
            Row("create → controllable", all, r => r.Create);
            Row("start (cont) returns", all, r => r.Start);
            Row("started → /init on console", all, r => r.Boot);
            Row("/init → exit notification", all, r => r.Tail);
            Row("total: → exit notification", all, r => r.Exit);
            Row("overhead (total − boot)", all, r => r.Overhead);
            Row("→ QEMU reaped, dir removed", all, r => r.Cleaned);
            Row("our CPU, start → exit", all, r => r.BenchCpu);
            var hcs = new Stats(all.Where(r => r.Side == "hcs").Select(r => r.Exit.TotalMilliseconds));
            var raw = new Stats(all.Where(r => r.Side == "raw").Select(r => r.Exit.TotalMilliseconds));
            Console.WriteLine($"   ratio hcs/raw of total medians: {Stats.F(hcs.Median / raw.Median, 3)}; of minima: {Stats.F(hcs.Min / raw.Min, 3)}; median of the {pairs.Count} adjacent-pair ratios: {Stats.F(new Stats(pairs).Median, 3)}; n = {hcs.N} + {raw.N}");
            var oh = new Stats(all.Where(r => r.Side == "hcs" && r.Overhead is not null).Select(r => r.Overhead!.Value.TotalMilliseconds));
            var or = new Stats(all.Where(r => r.Side == "raw" && r.Overhead is not null).Select(r => r.Overhead!.Value.TotalMilliseconds));
            Console.WriteLine($"   ratio with the boot noise removed: (raw total median + hcs−raw overhead median) / raw total median = {Stats.F((raw.Median + oh.Median - or.Median) / raw.Median, 3)}");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The fixed costs without a boot: create a VM (paused, <c>-S</c>) until it can be controlled, then terminate it
    /// until QEMU is reaped and its directory removed; hcs (CreateAsync, TerminateAsync + dispose) against raw
    /// (spawn → QMP negotiated; SIGKILL → reaped), alternating, after one warm-up of each.
    /// </summary>
    public static async Task CreateAsync(int runs, bool verbose)
    {
        Console.WriteLine($"## create → controllable and terminate → reaped, no boot ({runs} runs each, alternating, 1 warm-up each)");
        var root = Directory.CreateTempSubdirectory("hcs-bench-cr-");
        try
        {
            await using var engine = new ComputeEngine([new QemuBackend(new QemuSettings(), Path.Combine(root.FullName, "hcs"))]);
            await using var client = HcsClient.Connect(engine, "hcs-bench");
            var samples = new List<(string Side, double Create, double Destroy)>();
            for (var i = -1; i < runs; i++)
            {
                foreach (var hcsFirst in i % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    var id = $"cr{i + 1}";
                    var clock = Stopwatch.StartNew();
                    double create, destroy;
                    if (hcsFirst)
                    {
                        var vm = await ComputeSystem.CreateAsync(client, id, BenchGuest.Document("idle"));
                        create = clock.Elapsed.TotalMilliseconds;
                        clock.Restart();
                        await vm.TerminateAsync();
                        await vm.DisposeAsync();
                        while (Directory.Exists(Path.Combine(root.FullName, "hcs", id)))
                        {
                            await Task.Delay(1);
                        }

                        destroy = clock.Elapsed.TotalMilliseconds;
                    }
                    else
                    {
                        var qemu = await RawQemu.StartAsync(id, BenchGuest.Document("idle"), Path.Combine(root.FullName, "raw", id));
                        create = clock.Elapsed.TotalMilliseconds;
                        clock.Restart();
                        await qemu.DisposeAsync();
                        destroy = clock.Elapsed.TotalMilliseconds;
                    }

                    var side = hcsFirst ? "hcs" : "raw";
                    if (i >= 0)
                    {
                        samples.Add((side, create, destroy));
                    }

                    if (verbose)
                    {
                        Console.WriteLine($"   {(i < 0 ? "warm-up " : "")}{side} create {Stats.F(create)} destroy {Stats.F(destroy)}");
                    }
                }
            }

            foreach (var (name, pick) in new (string, Func<(string Side, double Create, double Destroy), double>)[] { ("create → controllable", s => s.Create), ("terminate → reaped", s => s.Destroy) })
            {
                var hcs = new Stats(samples.Where(s => s.Side == "hcs").Select(pick));
                var raw = new Stats(samples.Where(s => s.Side == "raw").Select(pick));
                Console.WriteLine($"   {name,-28} hcs {hcs.MedianRange(),-24} raw {raw.MedianRange(),-24} hcs − raw {Stats.F(hcs.Median - raw.Median),6} ms  (n = {hcs.N} + {raw.N})");
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    private static string Ms(TimeSpan? t) => t is { } v ? Stats.F(v.TotalMilliseconds, 1) : "–";

    private static void Row(string name, List<Run> runs, Func<Run, TimeSpan?> pick)
    {
        var hcs = new Stats(runs.Where(r => r.Side == "hcs").Select(pick).OfType<TimeSpan>().Select(t => t.TotalMilliseconds));
        var raw = new Stats(runs.Where(r => r.Side == "raw").Select(pick).OfType<TimeSpan>().Select(t => t.TotalMilliseconds));
        Console.WriteLine($"   {name,-28} {hcs.MedianRange(),-27} {raw.MedianRange(),-27} {Stats.F(hcs.Median - raw.Median, 1),8}");
    }

    private static async Task<Run> HcsOnceAsync(HcsClient client, string runRoot, string id)
    {
        var clock = Stopwatch.StartNew();
        var vm = await ComputeSystem.CreateAsync(client, id, BenchGuest.Document("poweroff:0"));
        var created = clock.Elapsed;
        await using var console = await ConsoleTap.ConnectAsync(Path.Combine(runRoot, id, QemuCommandLine.ConsoleSocket), clock);
        var events = vm.EventsAsync().GetAsyncEnumerator();
        var next = events.MoveNextAsync(); // subscribes now
        var before = clock.Elapsed;
        await vm.StartAsync();
        var started = clock.Elapsed;
        var cpu0 = Environment.CpuUsage.TotalTime;
        TimeSpan exited, cpu;
        while (true)
        {
            if (!await next)
            {
                throw new InvalidOperationException("the event stream ended before SystemExited");
            }

            if (events.Current.Type == HcsEventType.SystemExited)
            {
                exited = clock.Elapsed;
                cpu = Environment.CpuUsage.TotalTime - cpu0;
                var status = HcsJson.Deserialize<SystemExitStatus>(events.Current.EventData!);
                if (status.ExitType != NotificationType.GracefulExit)
                {
                    throw new InvalidOperationException($"the guest did not power off: {events.Current.EventData}");
                }

                break;
            }

            next = events.MoveNextAsync();
        }

        await events.DisposeAsync();
        await vm.DisposeAsync();
        while (Directory.Exists(Path.Combine(runRoot, id)))
        {
            await Task.Delay(1);
        }

        var cleaned = clock.Elapsed;
        return new Run("hcs", created, started - before, started, console.InitReachedAt, exited, cleaned, console.GuestUptimeAtInit, cpu);
    }

    private static async Task<Run> RawOnceAsync(string run, string id)
    {
        var clock = Stopwatch.StartNew();
        var qemu = await RawQemu.StartAsync(id, BenchGuest.Document("poweroff:0"), run);
        var created = clock.Elapsed;
        await using var console = await ConsoleTap.ConnectAsync(Path.Combine(run, QemuCommandLine.ConsoleSocket), clock);
        var before = clock.Elapsed;
        await qemu.ExecuteAsync("cont");
        var started = clock.Elapsed;
        var cpu0 = Environment.CpuUsage.TotalTime;
        TimeSpan exited, cpu;
        while (true)
        {
            var e = await qemu.ReadEventAsync() ?? throw new InvalidOperationException("QMP closed before SHUTDOWN");
            if (e.GetProperty("event").GetString() == "SHUTDOWN")
            {
                exited = clock.Elapsed;
                cpu = Environment.CpuUsage.TotalTime - cpu0;
                break;
            }
        }

        await qemu.QuitAsync();
        await qemu.DisposeAsync();
        var cleaned = clock.Elapsed;
        return new Run("raw", created, started - before, started, console.InitReachedAt, exited, cleaned, console.GuestUptimeAtInit, cpu);
    }
}
