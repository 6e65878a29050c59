// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hcs.Bench;

/// <summary>
/// The NativeAOT <c>hcsd</c> and <c>hcsctl</c> (build.sh publishes them into artifacts/bin) against the JIT build
/// (<c>hcsd.dll</c> and <c>hcsctl.dll</c> built next to the bench, run by the dotnet host), in one run: hcsd exec →
/// accepting socket and idle memory, <c>hcsctl list</c> against an hcsd holding 10 idle fake systems, hcsd's memory
/// with 200 systems, and the <c>daemon-properties</c> and <c>daemon-events (2)</c> benchmarks against each daemon.
/// </summary>
internal static partial class NativeBench
{
    private const int RusageChildren = -1;

    public static async Task RunAsync(string binDirectory, int starts, int listRuns, int systems, TimeSpan duration, int inFlight, int lifecycles, bool verbose)
    {
        var native = HcsdBuild.Native(binDirectory);
        var jitCtl = Path.Combine(AppContext.BaseDirectory, "hcsctl.dll");
        foreach (var file in new[] { native.NativeHcsd!, native.NativeHcsctl!, jitCtl })
        {
            if (!File.Exists(file))
            {
                Console.WriteLine($"## native: skipped, {file} is missing (build.sh's native step publishes artifacts/bin)");
                return;
            }
        }

        Console.WriteLine($"## native: NativeAOT hcsd and hcsctl ({binDirectory}) against the JIT build (dotnet hcsd.dll, dotnet hcsctl.dll), fake backend");
        HcsdBuild[] builds = [HcsdBuild.Jit, native];
        var summary = new List<(string What, double Jit, double Native, string Unit)>();

        // 1. Start and idle memory: JIT as shipped (tiered compilation), alternating.
        Console.WriteLine($"### start: exec → socket accepting (polled every 1 ms), then VmRSS after 2 s idle; {starts} starts each, alternating; the JIT hcsd as shipped (tiered)");
        var startTimes = builds.ToDictionary(b => b, _ => new List<double>());
        var startCpu = builds.ToDictionary(b => b, _ => new List<double>());
        var idle = builds.ToDictionary(b => b, _ => new List<(double Rss, double Anon, double File)>());
        for (var i = 0; i < starts + 1; i++)
        {
            foreach (var build in i % 2 == 0 ? builds : [.. builds.Reverse()])
            {
                // Start → accepting counts the whole process's CPU (10 ms ticks): hcsd's own work, not the machine's load.
                await using var hcsd = await HcsdProcess.StartAsync(build: build, tiered: true);
                var cpuAtAccept = hcsd.CpuTime().TotalMilliseconds;
                await Task.Delay(TimeSpan.FromSeconds(2));
                var (anon, file) = hcsd.RssParts();
                if (i > 0)
                {
                    startTimes[build].Add(hcsd.StartTime.TotalMilliseconds);
                    startCpu[build].Add(cpuAtAccept);
                    idle[build].Add((hcsd.RssMegabytes(), anon, file));
                }

                if (verbose)
                {
                    Console.WriteLine($"      {build.Name} #{i}: {Stats.F(hcsd.StartTime.TotalMilliseconds, 1)} ms, VmRSS {Stats.F(hcsd.RssMegabytes(), 1)} MB");
                }
            }
        }

        foreach (var build in builds)
        {
            var rss = new Stats(idle[build].Select(r => r.Rss));
            Console.WriteLine($"   {build.Name,-6} exec → accepting {new Stats(startTimes[build]).MedianRange(1)} ms, hcsd CPU by then {new Stats(startCpu[build]).MedianRange(0)} ms; idle VmRSS {rss.MedianRange(1)} MB (RssAnon {Stats.F(new Stats(idle[build].Select(r => r.Anon)).Median, 1)} + RssFile {Stats.F(new Stats(idle[build].Select(r => r.File)).Median, 1)})  load {DaemonBench.Load()}");
        }

        summary.Add(("hcsd exec → accepting, median", new Stats(startTimes[HcsdBuild.Jit]).Median, new Stats(startTimes[native]).Median, "ms"));
        summary.Add(("hcsd CPU by accepting, median", new Stats(startCpu[HcsdBuild.Jit]).Median, new Stats(startCpu[native]).Median, "ms"));
        summary.Add(("hcsd idle VmRSS, median", new Stats(idle[HcsdBuild.Jit].Select(r => r.Rss)).Median, new Stats(idle[native].Select(r => r.Rss)).Median, "MB"));

        // 2. hcsctl list against a daemon of its own build holding 10 idle systems; the two alternate.
        Console.WriteLine($"### hcsctl list: each build's hcsctl against its own hcsd (10 idle fake systems), {listRuns} runs each after 2 warm-ups, alternating; wall from exec to exit, CPU = the child's user + system time");
        var daemons = new Dictionary<HcsdBuild, (HcsdProcess Hcsd, DaemonBench.DaemonClient Client, List<Hcs.Client.ComputeSystem> Systems)>();
        try
        {
            foreach (var build in builds)
            {
                var hcsd = await HcsdProcess.StartAsync(build: build);
                var client = await DaemonBench.DaemonClient.ConnectAsync(hcsd.Socket, "bench-list");
                daemons[build] = (hcsd, client, await DaemonBench.CreateManyAsync(client.Client, 10, "list"));
            }

            var wall = builds.ToDictionary(b => b, _ => new List<double>());
            var cpu = builds.ToDictionary(b => b, _ => new List<double>());
            for (var i = 0; i < listRuns + 2; i++)
            {
                foreach (var build in i % 2 == 0 ? builds : [.. builds.Reverse()])
                {
                    var (w, c, output) = await RunHcsctlAsync(build, jitCtl, daemons[build].Hcsd.Socket);
                    if (i == 0 && !output.Contains("list-9", StringComparison.Ordinal))
                    {
                        throw new InvalidOperationException($"{build.Name} hcsctl list did not list the 10 systems:\n{output}");
                    }

                    if (i >= 2)
                    {
                        wall[build].Add(w);
                        cpu[build].Add(c);
                    }
                }
            }

            foreach (var build in builds)
            {
                Console.WriteLine($"   {build.Name,-6} wall {new Stats(wall[build]).MedianRange(1)} ms, CPU {new Stats(cpu[build]).MedianRange(0)} ms (n={wall[build].Count})  load {DaemonBench.Load()}");
            }

            summary.Add(("hcsctl list wall, median", new Stats(wall[HcsdBuild.Jit]).Median, new Stats(wall[native]).Median, "ms"));
            summary.Add(("hcsctl list CPU, median", new Stats(cpu[HcsdBuild.Jit]).Median, new Stats(cpu[native]).Median, "ms"));
        }
        finally
        {
            foreach (var (hcsd, client, list) in daemons.Values)
            {
                await DaemonBench.RemoveAllAsync(list);
                await client.DisposeAsync();
                await hcsd.DisposeAsync();
            }
        }

        // 3. Memory with many idle systems.
        Console.WriteLine($"### memory: hcsd VmRSS idle, with {systems} idle fake systems created+started by one client, after they are removed; twice");
        foreach (var build in builds)
        {
            await using var hcsd = await HcsdProcess.StartAsync(build: build);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var fresh = hcsd.RssMegabytes();
            await using var client = await DaemonBench.DaemonClient.ConnectAsync(hcsd.Socket, "bench-rss");
            for (var pass = 1; pass <= 2; pass++)
            {
                var before = hcsd.RssMegabytes();
                var list = await DaemonBench.CreateManyAsync(client.Client, systems, $"rss{pass}");
                await Task.Delay(TimeSpan.FromSeconds(1));
                var with = hcsd.RssMegabytes();
                var perSystem = (with - before) * 1024 / systems;
                await DaemonBench.RemoveAllAsync(list);
                await Task.Delay(TimeSpan.FromSeconds(2));
                var after = hcsd.RssMegabytes();
                Console.WriteLine($"   {build.Name,-6} pass {pass}: fresh {Stats.F(fresh, 1)} MB, with a client {Stats.F(before, 1)} MB, with {systems} systems {Stats.F(with, 1)} MB ({Stats.F(perSystem, 1)} KiB/system), after removal {Stats.F(after, 1)} MB  load {DaemonBench.Load()}");
                if (pass == 1)
                {
                    summary.Add(($"hcsd KiB per idle system (first {systems})", build == HcsdBuild.Jit ? perSystem : double.NaN, build == native ? perSystem : double.NaN, "KiB"));
                }
            }
        }

        // 4. The call latencies against each daemon (the JIT hcsd optimised at first use, as in daemon-*).
        var properties = new Dictionary<HcsdBuild, Dictionary<int, (double Rate, double Median, double DaemonCpu)>>();
        foreach (var build in builds)
        {
            properties[build] = await DaemonBench.PropertiesAsync(duration, inFlight, build);
        }

        foreach (var sessions in properties[native].Keys)
        {
            summary.Add(($"GetProperties typed, {sessions} session(s), calls/s", properties[HcsdBuild.Jit][sessions].Rate, properties[native][sessions].Rate, "/s"));
            summary.Add(($"GetProperties typed, {sessions} session(s), p50", properties[HcsdBuild.Jit][sessions].Median, properties[native][sessions].Median, "µs"));
            summary.Add(($"GetProperties typed, {sessions} session(s), hcsd CPU/call", properties[HcsdBuild.Jit][sessions].DaemonCpu, properties[native][sessions].DaemonCpu, "µs"));
        }

        var events = new Dictionary<HcsdBuild, Stats>();
        foreach (var build in builds)
        {
            events[build] = await DaemonBench.LifecycleEventsAsync(lifecycles, verbose, build);
        }

        summary.Add(("Start → SystemExited via hcsd, p50", events[HcsdBuild.Jit].Median, events[native].Median, "µs"));
        summary.Add(("Start → SystemExited via hcsd, p99", events[HcsdBuild.Jit].Percentile(99), events[native].Percentile(99), "µs"));

        Console.WriteLine("### native: summary (JIT | native | native/JIT)");
        var merged = summary.GroupBy(s => s.What).Select(g => (What: g.Key, Jit: g.Select(s => s.Jit).FirstOrDefault(v => !double.IsNaN(v), double.NaN),
            Native: g.Select(s => s.Native).FirstOrDefault(v => !double.IsNaN(v), double.NaN), g.First().Unit));
        foreach (var (what, jit, nat, unit) in merged)
        {
            Console.WriteLine($"   {what,-46} {Stats.F(jit, 1),10} {unit,-3} {Stats.F(nat, 1),10} {unit,-3} {Stats.F(nat / jit, 3),7}");
        }

        Console.WriteLine($"   load {DaemonBench.Load()}");
    }

    /// <summary>Runs one <c>hcsctl list</c>; returns its wall time (exec → reaped) and CPU time (ms), and its output.</summary>
    private static async Task<(double Wall, double Cpu, string Output)> RunHcsctlAsync(HcsdBuild build, string jitCtl, string socket)
    {
        var info = new ProcessStartInfo(build.NativeHcsctl ?? HcsdProcess.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (build.NativeHcsctl is null)
        {
            info.ArgumentList.Add(jitCtl);
        }

        foreach (var argument in new[] { "--socket", socket, "list" })
        {
            info.ArgumentList.Add(argument);
        }

        var cpuBefore = ChildrenCpu();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start hcsctl");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var wall = clock.Elapsed.TotalMilliseconds;
        var cpu = (ChildrenCpu() - cpuBefore).TotalMilliseconds;
        var output = await stdout + await stderr;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{build.Name} hcsctl list exited with {process.ExitCode}:\n{output}");
        }

        return (wall, cpu, output);
    }

    /// <summary>User + system time of this process's reaped children (getrusage RUSAGE_CHILDREN).</summary>
    private static TimeSpan ChildrenCpu()
    {
        if (GetRusage(RusageChildren, out var usage) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return TimeSpan.FromMicroseconds(((usage.UserSeconds + usage.SystemSeconds) * 1_000_000) + usage.UserMicroseconds + usage.SystemMicroseconds);
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);

    /// <summary>struct rusage (x86-64): two timevals, then 14 longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss;
        public long Ixrss;
        public long Idrss;
        public long Isrss;
        public long Minflt;
        public long Majflt;
        public long Nswap;
        public long Inblock;
        public long Oublock;
        public long Msgsnd;
        public long Msgrcv;
        public long Nsignals;
        public long Nvcsw;
        public long Nivcsw;
    }
}
