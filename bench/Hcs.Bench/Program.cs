// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Hcs.Bench;

// usage: ./build.sh bench [--] [lifecycle] [create] [latency] [properties] [container] [exec] [stdio]
//        [daemon-properties] [daemon-events] [daemon-rss] [daemon-flood] [capi] [native] [--runs N] [--create-runs N] [--sessions N] [--seconds S]
//        [--calibrate raw|hcs] [--container-runs N] [--exec-runs N] [--stdio-runs N] [--in-flight N] [--events N]
//        [--lifecycles N] [--systems N] [--flood N] [--bin DIR] [--starts N] [--list-runs N] [--verbose]
// --calibrate runs the lifecycle benchmark with the same path in both columns (an A/A test of the method's noise).
// With no benchmark named, all run (about 3 minutes on the 2-core build machine). Never more than one VM at a time.
// daemon-* compare a real hcsd process (fake backend) with the embedded engine; they need neither QEMU nor root.
// native compares the NativeAOT hcsd and hcsctl (--bin, default artifacts/bin) with the JIT build (start, memory,
// hcsctl list, GetProperties, events); neither QEMU nor root.
// capi compares libcomputecore.so called from C with the C# clients against one hcsd (gcc and a published library).
// container, exec and stdio compare hcs's runc backend with runc run by hand (root; runtime state in /run/hcs-bench-RANDOM).
var names = new List<string>();
int runs = 5, sessions = 200, createRuns = 15, containerRuns = 20, execRuns = 30, stdioRuns = 5;
int inFlight = 8, events = 1000, lifecycles = 200, systems = 200, flood = 1_000_000, starts = 10, listRuns = 20;
string? bin = null;
double seconds = 2;
var verbose = false;
string? calibrate = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--":
            break;
        case "--runs":
            runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--sessions":
            sessions = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--seconds":
            seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--calibrate" when i + 1 < args.Length && args[i + 1] is "raw" or "hcs":
            calibrate = args[++i];
            break;
        case "--verbose":
            verbose = true;
            break;
        case "--create-runs":
            createRuns = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--container-runs":
            containerRuns = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--exec-runs":
            execRuns = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--stdio-runs":
            stdioRuns = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--in-flight":
            inFlight = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--events":
            events = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--lifecycles":
            lifecycles = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--systems":
            systems = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--flood":
            flood = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--bin":
            bin = args[++i];
            break;
        case "--starts":
            starts = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--list-runs":
            listRuns = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "lifecycle" or "create" or "latency" or "properties" or "container" or "exec" or "stdio" or "daemon-properties" or "daemon-events" or "daemon-rss" or "daemon-flood" or "capi" or "native":
            names.Add(args[i]);
            break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: [lifecycle] [create] [latency] [properties] [container] [exec] [stdio] [daemon-properties] [daemon-events] [daemon-rss] [daemon-flood] [capi] [native] [--runs N] [--create-runs N] [--sessions N] [--seconds S] [--calibrate raw|hcs] [--container-runs N] [--exec-runs N] [--stdio-runs N] [--in-flight N] [--events N] [--lifecycles N] [--systems N] [--flood N] [--bin DIR] [--starts N] [--list-runs N] [--verbose]");
            return 2;
    }
}

if (names.Count == 0)
{
    names.AddRange(["lifecycle", "create", "latency", "properties", "container", "exec", "stdio", "daemon-properties", "daemon-events", "daemon-rss", "daemon-flood", "capi", "native"]);
}

Console.WriteLine($"# hcs benchmarks — {TimeProvider.System.GetUtcNow():yyyy-MM-dd HH:mm} UTC");
Console.WriteLine($"   machine: {Environment.ProcessorCount} CPUs, {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}, {Qemu()}");
Load("start");
var total = Stopwatch.StartNew();

if (names.Contains("lifecycle"))
{
    await LifecycleBench.RunAsync(runs, verbose, calibrate);
    Load("after lifecycle");
}

if (names.Contains("create"))
{
    await LifecycleBench.CreateAsync(createRuns, verbose);
    Load("after create");
}

if (names.Contains("latency") || names.Contains("properties"))
{
    await using (var vm = await RunningVm.StartAsync())
    {
        if (names.Contains("properties"))
        {
            await PropertiesBench.RunAsync(vm, TimeSpan.FromSeconds(seconds));
            Load("after properties");
        }

        if (names.Contains("latency"))
        {
            await EventLatencyBench.HcsAsync(vm, sessions, verbose);
        }
    }

    if (names.Contains("latency"))
    {
        await EventLatencyBench.RawAsync(sessions, verbose);
        Load("after latency");
    }
}

if (names.Contains("container"))
{
    Load("before container");
    await ContainerBench.LifecycleAsync(containerRuns, verbose);
    Load("after container");
}

if (names.Contains("exec") || names.Contains("stdio"))
{
    await using var rig = ContainerRig.Create();
    const string Id = "bench";
    await using var system = await Hcs.Client.ComputeSystem.CreateAsync(rig.Client, Id, ContainerRig.Document);
    await system.StartAsync();
    if (names.Contains("exec"))
    {
        Load("before exec");
        await ContainerBench.ExecAsync(rig, system, Id, execRuns, verbose);
        Load("after exec");
    }

    if (names.Contains("stdio"))
    {
        Load("before stdio");
        await ContainerBench.StdioAsync(rig, system, Id, stdioRuns, verbose);
        Load("after stdio");
    }

    await system.TerminateAsync();
}

if (names.Contains("daemon-properties"))
{
    await DaemonBench.PropertiesAsync(TimeSpan.FromSeconds(seconds), inFlight);
    Load("after daemon-properties");
}

if (names.Contains("daemon-events"))
{
    await DaemonBench.EventsAsync(events, lifecycles, verbose);
    Load("after daemon-events");
}

if (names.Contains("daemon-rss"))
{
    await DaemonBench.RssAsync(systems);
    Load("after daemon-rss");
}

if (names.Contains("daemon-flood"))
{
    await DaemonBench.FloodAsync(flood, Math.Max(seconds, 20));
    Load("after daemon-flood");
}

if (names.Contains("capi"))
{
    await CApiBench.RunAsync(TimeSpan.FromSeconds(seconds), lifecycles);
    Load("after capi");
}

if (names.Contains("native"))
{
    await NativeBench.RunAsync(bin ?? Path.Combine(RepositoryRoot(), "artifacts", "bin"), starts, listRuns, systems, TimeSpan.FromSeconds(seconds), inFlight, lifecycles, verbose);
    Load("after native");
}

Console.WriteLine($"# done in {Stats.F(total.Elapsed.TotalSeconds, 0)} s");
return 0;

static void Load(string when) =>
    Console.WriteLine($"   load average ({when}): {File.ReadAllText("/proc/loadavg").Trim()}");

// The source tree the bench was built in: the nearest directory above it holding VERSION and build.sh.
static string RepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "VERSION")) && File.Exists(Path.Combine(directory.FullName, "build.sh")))
        {
            return directory.FullName;
        }
    }

    return Directory.GetCurrentDirectory();
}

static string Qemu()
{
    try
    {
        using var qemu = Process.Start(new ProcessStartInfo("qemu-system-x86_64", "--version") { RedirectStandardOutput = true })!;
        var version = qemu.StandardOutput.ReadLine() ?? "";
        qemu.WaitForExit();
        return version;
    }
    catch (System.ComponentModel.Win32Exception)
    {
        return "no qemu-system-x86_64";
    }
}
