// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Client;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Bench;

/// <summary>
/// Containers, hcs (engine embedded, runc backend, client API) against runc run by hand on an equivalent bundle:
/// the lifecycle of a container running <c>true</c>, exec latency into a running container, and stdio throughput.
/// </summary>
internal static class ContainerBench
{
    private const int StdioBytes = 256 * 1024 * 1024;
    private const int Buffer = 128 * 1024;
    private const double MiB = 1024 * 1024;

    /// <summary>One run of one side; the named steps in milliseconds, in order.</summary>
    private sealed record Run(string Side, double Total, IReadOnlyList<(string Step, double Ms)> Steps);

    /// <summary>Times one run: the total, and each step since the previous one.</summary>
    private sealed class Laps(string side)
    {
        private readonly Stopwatch _total = Stopwatch.StartNew();
        private readonly Stopwatch _lap = Stopwatch.StartNew();
        private readonly List<(string, double)> _steps = [];

        public void Step(string name)
        {
            _steps.Add((name, _lap.Elapsed.TotalMilliseconds));
            _lap.Restart();
        }

        public Run Done() => new(side, _total.Elapsed.TotalMilliseconds, _steps);
    }

    /// <summary>
    /// hcs: Create → Start → CreateProcess(true) → WaitForExit → Terminate → WaitForExit → dispose (until its runtime
    /// directory is gone). raw run: prepare the bundle (overlay, config.json with args ["true"]) → <c>runc run</c> →
    /// unmount, remove. raw seq: prepare (hcs's init as the process) → <c>runc create</c>, <c>start</c>,
    /// <c>exec true</c>, <c>kill KILL</c>, <c>delete --force</c> → unmount, remove: the runc calls hcs makes.
    /// Orders alternate (hcs, run, seq / seq, run, hcs), 2 warm-up blocks discarded.
    /// </summary>
    public static async Task LifecycleAsync(int runs, bool verbose)
    {
        Console.WriteLine($"## container: create → start → exec true → exit → terminate → gone ({runs} runs each, orders hcs/run/seq and seq/run/hcs alternating, 2 warm-ups each)");
        Console.WriteLine($"   {RuncVersion()}");
        await using var rig = ContainerRig.Create();
        var all = new List<Run>();
        for (var i = -2; i < runs; i++)
        {
            var order = (i & 1) == 0 ? new[] { "hcs", "run", "seq" } : ["seq", "run", "hcs"];
            foreach (var side in order)
            {
                ContainerRig.ThrowIfStopping();
                var id = $"{side[0]}{i + 2}";
                var run = side switch
                {
                    "hcs" => await HcsLifecycleAsync(rig, id),
                    "run" => await RawRunAsync(rig, id),
                    _ => await RawSequenceAsync(rig, id),
                };
                if (i >= 0)
                {
                    all.Add(run);
                }

                if (verbose)
                {
                    Console.WriteLine($"   {(i < 0 ? "warm-up " : "")}{side,-4} total {Stats.F(run.Total)}: {string.Join(", ", run.Steps.Select(s => $"{s.Step} {Stats.F(s.Ms)}"))}");
                }
            }
        }

        var hcs = Of(all, "hcs");
        var raw = Of(all, "run");
        var seq = Of(all, "seq");
        Console.WriteLine("   (ms)                      median (min–max)            n");
        Console.WriteLine($"   hcs total                 {hcs.MedianRange(),-27} {hcs.N}");
        Console.WriteLine($"   raw runc run total        {raw.MedianRange(),-27} {raw.N}");
        Console.WriteLine($"   raw runc sequence total   {seq.MedianRange(),-27} {seq.N}");
        Console.WriteLine($"   ratio hcs/raw(runc run) of medians: {Stats.F(hcs.Median / raw.Median, 3)}; of minima {Stats.F(hcs.Min / raw.Min, 3)}; hcs/raw(sequence): {Stats.F(hcs.Median / seq.Median, 3)}; sequence/run: {Stats.F(seq.Median / raw.Median, 3)}");
        foreach (var side in new[] { "hcs", "run", "seq" })
        {
            var runsOfSide = all.Where(r => r.Side == side).ToList();
            var steps = runsOfSide[0].Steps.Select(s => s.Step).ToList();
            Console.WriteLine($"   breakdown {side}: " + string.Join("; ", steps.Select((s, k) => $"{s} {new Stats(runsOfSide.Select(r => r.Steps[k].Ms)).MedianRange()}")));
        }
    }

    private static Stats Of(List<Run> runs, string side) => new(runs.Where(r => r.Side == side).Select(r => r.Total));

    private static async Task<Run> HcsLifecycleAsync(ContainerRig rig, string id)
    {
        var laps = new Laps("hcs");
        var system = await ComputeSystem.CreateAsync(rig.Client, id, ContainerRig.Document);
        laps.Step("create");
        await system.StartAsync();
        laps.Step("start");
        await using (var process = await system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["true"] }))
        {
            laps.Step("exec");
            var status = await process.WaitForExitAsync();
            laps.Step("exit");
            if (status.ExitCode != 0)
            {
                throw new InvalidOperationException($"true exited {status.ExitCode}");
            }
        }

        await system.TerminateAsync();
        await system.WaitForExitAsync();
        laps.Step("terminate");
        await system.DisposeAsync();
        var dir = rig.HcsDirectory(id);
        while (Directory.Exists(dir))
        {
            await Task.Delay(1);
        }

        laps.Step("dispose→gone");
        return laps.Done();
    }

    private static async Task<Run> RawRunAsync(ContainerRig rig, string id)
    {
        var laps = new Laps("run");
        var dir = await rig.PrepareRawAsync(id, ["true"]);
        laps.Step("prepare");
        await ContainerRig.RuncAsync(rig.RawRuncRoot, "run", "-b", dir, id);
        laps.Step("runc run");
        await ContainerRig.RemoveRawAsync(dir);
        laps.Step("cleanup");
        return laps.Done();
    }

    private static async Task<Run> RawSequenceAsync(ContainerRig rig, string id)
    {
        var laps = new Laps("seq");
        var dir = await rig.PrepareRawAsync(id, null);
        laps.Step("prepare");
        var root = rig.RawRuncRoot;
        await ContainerRig.RuncAsync(root, "create", "--bundle", dir, id);
        laps.Step("create");
        await ContainerRig.RuncAsync(root, "start", id);
        laps.Step("start");
        await ContainerRig.RuncAsync(root, "exec", id, "true");
        laps.Step("exec true");
        await ContainerRig.RuncAsync(root, "kill", id, "KILL");
        laps.Step("kill");
        await ContainerRig.RuncAsync(root, "delete", "--force", id);
        laps.Step("delete");
        await ContainerRig.RemoveRawAsync(dir);
        laps.Step("cleanup");
        return laps.Done();
    }

    /// <summary>
    /// Exec latency in one running hcs container: hcs CreateProcess(["true"]) until it returns (running) and until
    /// WaitForExit completes, against <c>runc exec ID true</c> (foreground) into the same container; alternating, 2 warm-ups each.
    /// </summary>
    public static async Task ExecAsync(ContainerRig rig, ComputeSystem system, string id, int runs, bool verbose)
    {
        Console.WriteLine($"## exec: process start latency in a running container ({runs} runs each, alternating, 2 warm-ups each)");
        var name = rig.Backend.HostNameOf(id);
        var running = new List<double>();
        var exited = new List<double>();
        var raw = new List<double>();
        for (var i = -2; i < runs; i++)
        {
            foreach (var hcsSide in (i & 1) == 0 ? new[] { true, false } : [false, true])
            {
                ContainerRig.ThrowIfStopping();
                var clock = Stopwatch.StartNew();
                if (hcsSide)
                {
                    await using var process = await system.CreateProcessAsync(new ProcessParameters { CommandArgs = ["true"] });
                    var started = clock.Elapsed.TotalMilliseconds;
                    var status = await process.WaitForExitAsync();
                    var done = clock.Elapsed.TotalMilliseconds;
                    if (status.ExitCode != 0)
                    {
                        throw new InvalidOperationException($"true exited {status.ExitCode}");
                    }

                    if (i >= 0)
                    {
                        running.Add(started);
                        exited.Add(done);
                    }

                    if (verbose)
                    {
                        Console.WriteLine($"   {(i < 0 ? "warm-up " : "")}hcs running {Stats.F(started, 2)} exited {Stats.F(done, 2)}");
                    }
                }
                else
                {
                    await ContainerRig.RuncAsync(rig.HcsRuncRoot, "exec", name, "true");
                    var done = clock.Elapsed.TotalMilliseconds;
                    if (i >= 0)
                    {
                        raw.Add(done);
                    }

                    if (verbose)
                    {
                        Console.WriteLine($"   {(i < 0 ? "warm-up " : "")}raw runc exec {Stats.F(done, 2)}");
                    }
                }
            }
        }

        Console.WriteLine("   (ms)                                   median (min–max)            p90      n");
        foreach (var (label, values) in new[] { ("hcs CreateProcess returns (running)", running), ("hcs → WaitForExit completes", exited), ("raw runc exec true (foreground)", raw) })
        {
            var s = new Stats(values);
            Console.WriteLine($"   {label,-38} {s.MedianRange(2),-27} {Stats.F(s.Percentile(90), 2),-8} {s.N}");
        }

        Console.WriteLine($"   ratio hcs(exited)/raw of medians: {Stats.F(new Stats(exited).Median / new Stats(raw).Median, 3)}; hcs(running)/raw: {Stats.F(new Stats(running).Median / new Stats(raw).Median, 3)}");
    }

    /// <summary>
    /// Stdio throughput in one running hcs container: 256 MiB from <c>head -c N /dev/zero</c> read to EOF, hcs
    /// (StandardOutput) against <c>runc exec</c> with its stdout a pipe read by the bench; and a round trip
    /// stdin → <c>cat</c> → stdout, 256 MiB written while reading; alternating, 1 warm-up each.
    /// MiB/s over launch → EOF (the process's start included, on both sides).
    /// </summary>
    public static async Task StdioAsync(ContainerRig rig, ComputeSystem system, string id, int runs, bool verbose)
    {
        Console.WriteLine($"## stdio: 256 MiB through stdout, and stdin → cat → stdout ({runs} runs each, alternating, 1 warm-up each; MiB/s over launch → EOF)");
        var name = rig.Backend.HostNameOf(id);
        string[] head = ["head", "-c", StdioBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "/dev/zero"];
        var results = new Dictionary<string, List<double>>();
        for (var i = -1; i < runs; i++)
        {
            foreach (var hcsSide in (i & 1) == 0 ? new[] { true, false } : [false, true])
            {
                foreach (var roundTrip in new[] { false, true })
                {
                    ContainerRig.ThrowIfStopping();
                    var key = (hcsSide ? "hcs " : "raw ") + (roundTrip ? "stdin→cat→stdout" : "head → stdout");
                    var clock = Stopwatch.StartNew();
                    long bytes;
                    if (hcsSide)
                    {
                        await using var process = await system.CreateProcessAsync(new ProcessParameters
                        {
                            CommandArgs = roundTrip ? ["cat"] : head,
                            CreateStdInPipe = roundTrip,
                            CreateStdOutPipe = true,
                        });
                        var writer = roundTrip ? WriteAsync(process.StandardInput!, process.CloseStandardInputAsync) : Task.CompletedTask;
                        bytes = await DrainAsync(process.StandardOutput!);
                        await writer;
                        await process.WaitForExitAsync();
                    }
                    else
                    {
                        var start = new ProcessStartInfo(ContainerRig.RuncPath)
                        {
                            RedirectStandardInput = true,
                            RedirectStandardOutput = true,
                            RedirectStandardError = true,
                            UseShellExecute = false,
                        };
                        foreach (var a in (string[])["--root", rig.HcsRuncRoot, "exec", name, .. roundTrip ? ["cat"] : head])
                        {
                            start.ArgumentList.Add(a);
                        }

                        using var runc = Process.Start(start)!;
                        var stdin = runc.StandardInput.BaseStream;
                        var writer = roundTrip ? WriteAsync(stdin, async _ => await stdin.DisposeAsync()) : CloseAsync(stdin);
                        bytes = await DrainAsync(runc.StandardOutput.BaseStream);
                        await writer;
                        await runc.WaitForExitAsync();
                        if (runc.ExitCode != 0)
                        {
                            throw new InvalidOperationException($"runc exec exited {runc.ExitCode}");
                        }
                    }

                    var seconds = clock.Elapsed.TotalSeconds;
                    if (bytes != StdioBytes)
                    {
                        throw new InvalidOperationException($"{key}: read {bytes} bytes, expected {StdioBytes}");
                    }

                    var rate = bytes / MiB / seconds;
                    if (i >= 0)
                    {
                        (results.TryGetValue(key, out var list) ? list : results[key] = []).Add(rate);
                    }

                    if (verbose)
                    {
                        Console.WriteLine($"   {(i < 0 ? "warm-up " : "")}{key} {Stats.F(rate, 0)} MiB/s ({Stats.F(seconds * 1000, 0)} ms)");
                    }
                }
            }
        }

        Console.WriteLine("   (MiB/s)                        median (min–max)            n");
        foreach (var (key, values) in results.OrderBy(r => r.Key[4..]).ThenBy(r => r.Key))
        {
            var s = new Stats(values);
            Console.WriteLine($"   {key,-30} {s.MedianRange(0),-27} {s.N}");
        }

        foreach (var what in new[] { "head → stdout", "stdin→cat→stdout" })
        {
            Console.WriteLine($"   ratio hcs/raw ({what}) of medians: {Stats.F(new Stats(results["hcs " + what]).Median / new Stats(results["raw " + what]).Median, 3)}");
        }
    }

    private static async Task CloseAsync(Stream stream)
    {
        await stream.DisposeAsync();
    }

    private static async Task WriteAsync(Stream stdin, Func<CancellationToken, Task> close)
    {
        var chunk = new byte[Buffer];
        for (var written = 0; written < StdioBytes; written += chunk.Length)
        {
            await stdin.WriteAsync(chunk);
        }

        await stdin.FlushAsync();
        await close(CancellationToken.None);
    }

    private static async Task<long> DrainAsync(Stream stdout)
    {
        var buffer = new byte[Buffer];
        long total = 0;
        int read;
        while ((read = await stdout.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static string RuncVersion()
    {
        using var runc = Process.Start(new ProcessStartInfo(ContainerRig.RuncPath, "--version") { RedirectStandardOutput = true })!;
        var version = runc.StandardOutput.ReadToEnd().Replace('\n', ' ').Trim();
        runc.WaitForExit();
        return version;
    }
}
