// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Schema;
using Hcs.TestKit;
using static Hcs.Client.ComputeCore;
using TypedSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Bench;

/// <summary>
/// The C API (libcomputecore.so called from C: bench/capi/capi_bench.c, built here with <c>gcc -O2</c>) against the
/// C# clients, in the same run and against the same hcsd process (fake backend, so the figures are the API's and the
/// service's cost, not QEMU's): (1) GetProperties round trips per second on one running system, one call at a time
/// from one client, from C, from the C# computecore-shaped API (<see cref="ComputeCore"/>, the layer the C exports
/// call) and from the typed client (<see cref="TypedSystem"/>); (2) Start → <c>SystemExited</c> of a
/// <c>hcstest=poweroff:0</c> system, from the C event callback and from the typed client's event stream. Each client
/// has its own connection to hcsd; the sides alternate.
/// </summary>
internal static class CApiBench
{
    private const string Id = "bench-capi";
    private const double WarmUpSeconds = 1;
    private const int EventWarmUps = 10;

    public static async Task RunAsync(TimeSpan duration, int lifecycles)
    {
        Console.WriteLine($"## capi: the C API (libcomputecore.so from C) vs the C# clients, same hcsd (fake backend), one call at a time per client ({Stats.F(duration.TotalSeconds, 1)} s per side after {Stats.F(WarmUpSeconds, 1)} s warm-up)");
        var library = Repository.Path("artifacts", "computecore", "libcomputecore.so");
        if (!File.Exists(library) || !File.Exists("/usr/bin/gcc"))
        {
            Console.WriteLine($"   skipped: needs gcc and {library} (./build.sh build publishes it)");
            return;
        }

        var scratch = Directory.CreateTempSubdirectory("hcs-bench-capi-").FullName;
        try
        {
            var program = await CompileAsync(scratch, library);
            await using var hcsd = await HcsdProcess.StartAsync();
            await using var setupRemote = RemoteService.Connect(hcsd.Socket);
            await using var setup = HcsClient.Connect(setupRemote, "bench-capi-setup");
            await using var system = await TypedSystem.CreateAsync(setup, Id, FakeDocuments.Vm("idle", "hcs-bench"));
            await system.StartAsync();

            var rates = new Dictionary<string, List<double>>();
            for (var round = 0; round < 2; round++)
            {
                string[] order = round % 2 == 0 ? ["C", "C# flat", "C# typed"] : ["C# typed", "C# flat", "C"];
                foreach (var side in order)
                {
                    var (calls, seconds, p50, p99, cpu) = side switch
                    {
                        "C" => await PropertiesFromCAsync(program, hcsd, duration),
                        "C# flat" => await PropertiesFlatAsync(hcsd, duration),
                        _ => await PropertiesTypedAsync(hcsd, duration),
                    };
                    var rate = calls / seconds;
                    (rates.TryGetValue(side, out var list) ? list : rates[side] = []).Add(rate);
                    Console.WriteLine($"   {side,-9} {Stats.F(rate, 0),7} calls/s  p50 {Stats.F(p50, 0),5} µs  p99 {Stats.F(p99, 0),6} µs  client CPU per call {Stats.F(cpu, 1),5} µs  (n={calls:N0})  load {Load()}");
                }
            }

            var c = rates["C"].Average();
            Console.WriteLine($"   ratio C / C# flat {Stats.F(c / rates["C# flat"].Average(), 2)}, C / C# typed {Stats.F(c / rates["C# typed"].Average(), 2)} (mean rates of the two rounds)");
            await system.TerminateAsync();

            Console.WriteLine($"## capi (2): Start → SystemExited of a hcstest=poweroff:0 system, C callback vs typed C# event stream (n={lifecycles} each after {EventWarmUps} warm-ups)");
            var document = Path.Combine(scratch, "poweroff.json");
            await File.WriteAllTextAsync(document, FakeDocuments.Vm("poweroff:0", "hcs-bench"));
            var typed = await EventsTypedAsync(hcsd, lifecycles);
            Console.WriteLine($"   C# typed  p50 {Stats.F(typed.Median, 0),5} µs  p90 {Stats.F(typed.Percentile(90), 0),5} µs  p99 {Stats.F(typed.Percentile(99), 0),6} µs  load {Load()}");
            var run = await RunAsync(program, ["events", "bench-capi-poweroff", EventWarmUps.ToString(CultureInfo.InvariantCulture),
                lifecycles.ToString(CultureInfo.InvariantCulture), document], hcsd.Socket);
            var fields = Fields(run);
            Console.WriteLine($"   C         p50 {Stats.F(fields["p50"], 0),5} µs  p90 {Stats.F(fields["p90"], 0),5} µs  p99 {Stats.F(fields["p99"], 0),6} µs  load {Load()}");
            Console.WriteLine($"   ratio C / C# typed (p50) {Stats.F(fields["p50"] / typed.Median, 2)}");
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    private static async Task<string> CompileAsync(string scratch, string library)
    {
        var output = Path.Combine(scratch, "capi_bench");
        var directory = Path.GetDirectoryName(library)!;
        var (code, text) = await ExecAsync("/usr/bin/gcc",
            ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-I", Repository.Path("include"), "-o", output,
             Repository.Path("bench", "capi", "capi_bench.c"), "-L", directory, "-Wl,-rpath," + directory, "-lcomputecore", "-lpthread"],
            null);
        return code == 0 ? output : throw new InvalidOperationException($"gcc failed:\n{text}");
    }

    private static async Task<(long Calls, double Seconds, double P50, double P99, double Cpu)> PropertiesFromCAsync(string program, HcsdProcess hcsd,
        TimeSpan duration)
    {
        var run = await RunAsync(program, ["properties", Id, WarmUpSeconds.ToString(CultureInfo.InvariantCulture),
            duration.TotalSeconds.ToString(CultureInfo.InvariantCulture)], hcsd.Socket);
        var fields = Fields(run);
        return ((long)fields["calls"], fields["seconds"], fields["p50"], fields["p99"], fields["cpu"]);
    }

    /// <summary>The computecore-shaped C# API, the layer under the C exports: synchronous, one operation reused.</summary>
    private static async Task<(long Calls, double Seconds, double P50, double P99, double Cpu)> PropertiesFlatAsync(HcsdProcess hcsd, TimeSpan duration)
    {
        await using var remote = RemoteService.Connect(hcsd.Socket);
        await using var client = HcsClient.Connect(remote, "bench-capi-flat");
        return await Task.Run(() =>
        {
            using var scope = HcsClient.Use(client);
            Check(HcsOpenComputeSystem(Id, 0x10000000, out var system), "HcsOpenComputeSystem");
            var operation = HcsCreateOperation(null, null);
            try
            {
                void Call()
                {
                    Check(HcsGetComputeSystemProperties(system, operation, null), "HcsGetComputeSystemProperties");
                    Check(HcsWaitForOperationResult(operation, uint.MaxValue, out _), "HcsWaitForOperationResult");
                }

                var warmUp = Stopwatch.StartNew();
                while (warmUp.Elapsed.TotalSeconds < WarmUpSeconds)
                {
                    Call();
                }

                var latencies = new List<double>(1 << 16);
                var cpu = HcsdProcess.ReadCpuTime("/proc/self/stat");
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < duration)
                {
                    var start = Stopwatch.GetTimestamp();
                    Call();
                    latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }

                return Summary(latencies, clock.Elapsed.TotalSeconds, cpu);
            }
            finally
            {
                HcsCloseOperation(operation);
                HcsCloseComputeSystem(system);
            }
        });
    }

    private static async Task<(long Calls, double Seconds, double P50, double P99, double Cpu)> PropertiesTypedAsync(HcsdProcess hcsd, TimeSpan duration)
    {
        await using var remote = RemoteService.Connect(hcsd.Socket);
        await using var client = HcsClient.Connect(remote, "bench-capi-typed");
        await using var system = await TypedSystem.OpenAsync(client, Id);
        return await MeasureAsync(() => system.GetPropertiesAsync(), duration);
    }

    private static async Task<(long Calls, double Seconds, double P50, double P99, double Cpu)> MeasureAsync(Func<Task> call, TimeSpan duration)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed.TotalSeconds < WarmUpSeconds)
        {
            await call();
        }

        var latencies = new List<double>(1 << 16);
        var cpu = HcsdProcess.ReadCpuTime("/proc/self/stat");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        return Summary(latencies, clock.Elapsed.TotalSeconds, cpu);
    }

    private static (long Calls, double Seconds, double P50, double P99, double Cpu) Summary(List<double> latencies, double seconds, TimeSpan cpu)
    {
        var perCall = (HcsdProcess.ReadCpuTime("/proc/self/stat") - cpu).TotalMicroseconds / latencies.Count;
        var stats = new Stats(latencies);
        return (latencies.Count, seconds, stats.Median, stats.Percentile(99), perCall);
    }

    private static async Task<Stats> EventsTypedAsync(HcsdProcess hcsd, int lifecycles)
    {
        await using var remote = RemoteService.Connect(hcsd.Socket);
        await using var client = HcsClient.Connect(remote, "bench-capi-events");
        var latencies = new List<double>();
        for (var i = 0; i < EventWarmUps + lifecycles; i++)
        {
            await using var system = await TypedSystem.CreateAsync(client, $"bench-capi-typed-poweroff-{i}", FakeDocuments.Vm("poweroff:0", "hcs-bench"));
            await using var events = system.EventsAsync().GetAsyncEnumerator();
            var next = events.MoveNextAsync(); // subscribed before Start
            var started = Stopwatch.GetTimestamp();
            await system.StartAsync();
            while (await next && events.Current.Type != HcsEventType.SystemExited)
            {
                next = events.MoveNextAsync();
            }

            if (i >= EventWarmUps)
            {
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            }
        }

        return new Stats(latencies);
    }

    private static void Check(int hr, string what)
    {
        if (hr < 0)
        {
            throw new InvalidOperationException($"{what} failed: 0x{hr:X8}");
        }
    }

    private static async Task<string> RunAsync(string program, string[] args, string socket)
    {
        var (code, text) = await ExecAsync(program, args, socket);
        return code == 0 ? text : throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {code}:\n{text}");
    }

    /// <summary>"key value key value …" (the C program's one line) as numbers.</summary>
    private static Dictionary<string, double> Fields(string line)
    {
        var words = line.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var fields = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < words.Length; i += 2)
        {
            fields[words[i]] = double.Parse(words[i + 1], CultureInfo.InvariantCulture);
        }

        return fields;
    }

    private static async Task<(int Code, string Output)> ExecAsync(string program, string[] args, string? socket)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        if (socket is not null)
        {
            start.Environment["HCS_SOCKET"] = socket;
            start.Environment["HCS_SERVICE_MODE"] = "daemon";
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await error);
    }

    private static string Load() => File.ReadAllText("/proc/loadavg").Trim();
}
