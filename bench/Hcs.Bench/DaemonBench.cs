// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Threading.Channels;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Daemon;
using Hcs.Engine;
using Hcs.Host;
using Hcs.Schema;
using TypedSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Bench;

/// <summary>
/// hcsd against the embedded engine, on fake-backend systems (no QEMU, so the figures are the service's own cost):
/// GetProperties round trips per second (<c>daemon-properties</c>), event latency (<c>daemon-events</c>) and hcsd's
/// resident memory (<c>daemon-rss</c>). The daemon side is a real hcsd process (<see cref="HcsdProcess"/>), except
/// where a figure needs the fake backend's hooks (raising an event at a known instant): that one runs
/// <see cref="DaemonServer"/> in this process, over the same socket, gRPC and client code. The embedded side is an
/// engine built the way hcsd builds its own (<see cref="ServiceHost.CreateEngine(HostSettings, IReadOnlyList{Hcs.Engine.Backends.IComputeBackend}?)"/>, backends = fake).
/// </summary>
internal static class DaemonBench
{
    private static readonly TimeSpan s_warmUp = TimeSpan.FromSeconds(1);

    /// <summary>
    /// GetProperties (basic, parsed by the typed client) on one idle running system, from 1, 4 and 16 sessions with
    /// <paramref name="inFlight"/> calls outstanding per session; each hcsd session has its own connection, as
    /// separate client processes would. Embedded and hcsd alternate per configuration.
    /// </summary>
    /// <returns>Per session count, the hcsd typed rate (calls/s), p50 latency (µs) and hcsd's CPU per call (µs).</returns>
    public static async Task<Dictionary<int, (double Rate, double Median, double DaemonCpu)>> PropertiesAsync(TimeSpan duration, int inFlight, HcsdBuild? build = null)
    {
        build ??= HcsdBuild.Jit;
        Console.WriteLine($"## daemon-properties: GetProperties round trips, hcsd process ({build.Name}) vs embedded engine ({Stats.F(duration.TotalSeconds, 1)} s per configuration after {Stats.F(s_warmUp.TotalSeconds, 1)} s warm-up, {inFlight} calls in flight per session)");
        const string Id = "bench-properties";
        var figures = new Dictionary<int, (double Rate, double Median, double DaemonCpu)>();
        await using var hcsd = await HcsdProcess.StartAsync(build: build);
        await using var embedded = EmbeddedEngine.Create();
        await using var daemonSetup = await DaemonClient.ConnectAsync(hcsd.Socket, "bench-setup");
        await using var embeddedSetup = HcsClient.Connect(embedded.Engine, "bench-setup");
        await using var daemonSystem = await TypedSystem.CreateAsync(daemonSetup.Client, Id, Document("idle"));
        await daemonSystem.StartAsync();
        await using var embeddedSystem = await TypedSystem.CreateAsync(embeddedSetup, Id, Document("idle"));
        await embeddedSystem.StartAsync();

        var round = 0;
        foreach (var sessions in new[] { 1, 4, 16 })
        {
            await ContractLayerAsync(hcsd, Id, sessions, inFlight, duration);
            var results = new Dictionary<bool, (double Rate, Stats Latency)>();
            var daemonCpuPerCall = 0.0;
            // Alternate which side goes first, so a change in the machine's load hits both.
            foreach (var daemon in round++ % 2 == 0 ? new[] { false, true } : [true, false])
            {
                var clients = new List<DaemonClient>();
                var handles = new List<TypedSystem>();
                for (var i = 0; i < sessions; i++)
                {
                    var client = daemon ? await DaemonClient.ConnectAsync(hcsd.Socket, $"bench-{i}") : new DaemonClient(null, HcsClient.Connect(embedded.Engine, $"bench-{i}"));
                    clients.Add(client);
                    handles.Add(await TypedSystem.OpenAsync(client.Client, Id));
                }

                await RunForAsync(handles, inFlight, s_warmUp);
                var sockets = daemon ? hcsd.SocketCount() : 0;
                var (selfCpu, daemonCpu) = (SelfCpu(), hcsd.CpuTime());
                var gc = GcProbe.Start();
                var (calls, latencies, elapsed) = await RunForAsync(handles, inFlight, duration);
                var gcLine = gc.Report(calls);
                // CPU per call is what the load of other tenants disturbs least: it bounds the rate on idle cores.
                var selfPerCall = (SelfCpu() - selfCpu).TotalMicroseconds / calls;
                var daemonPerCall = daemon ? (hcsd.CpuTime() - daemonCpu).TotalMicroseconds / calls : 0;
                var stats = new Stats(latencies);
                var rate = calls / elapsed.TotalSeconds;
                results[daemon] = (rate, stats);
                daemonCpuPerCall = daemon ? daemonPerCall : daemonCpuPerCall;
                Console.WriteLine($"   {(daemon ? "hcsd" : "embedded"),-8} sessions={sessions,-2} in flight={sessions * inFlight,-3} {Stats.F(rate, 0),7} calls/s  per call p50 {Stats.F(stats.Median, 0),6} µs  p99 {Stats.F(stats.Percentile(99), 0),7} µs  (n={calls}{(daemon ? $"; hcsd sockets {sockets}" : "")})  load {Load()}");
                Console.WriteLine($"            CPU per call: bench process {Stats.F(selfPerCall, 1)} µs{(daemon ? $", hcsd {Stats.F(daemonPerCall, 1)} µs" : "")} → ceiling on {Environment.ProcessorCount} idle cores ≈ {Stats.F(Environment.ProcessorCount * 1e6 / (selfPerCall + daemonPerCall), 0)} calls/s");
                Console.WriteLine($"            bench process {gcLine}");
                foreach (var handle in handles)
                {
                    await handle.DisposeAsync();
                }

                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }

            await ContractLayerAsync(hcsd, Id, sessions, inFlight, duration);
            figures[sessions] = (results[true].Rate, results[true].Latency.Median, daemonCpuPerCall);
            Console.WriteLine($"   sessions={sessions}: hcsd/embedded calls/s ratio {Stats.F(results[true].Rate / results[false].Rate, 3)}, p50 ratio {Stats.F(results[true].Latency.Median / results[false].Latency.Median, 2)}");
        }

        await daemonSystem.TerminateAsync();
        await embeddedSystem.TerminateAsync();
        return figures;
    }

    /// <summary>
    /// Event latency. (1) Backend raises an event → the client's event stream yields it: a fake system's remote console
    /// event, raised in this process, received at the same time by a handle of an embedded client and by a handle of a
    /// client on an in-process <see cref="DaemonServer"/> (the only way to raise an event at a known instant inside
    /// the service). (2) Through a real hcsd process: a <c>hcstest=poweroff:0</c> system, from the Start call to its
    /// <c>SystemExited</c> on the event stream, against the same on the embedded engine, alternating.
    /// </summary>
    public static async Task EventsAsync(int events, int lifecycles, bool verbose)
    {
        Console.WriteLine($"## daemon-events (1): backend raises an event → client event stream, in-process DaemonServer vs embedded (n={events} after 100 warm-up, one event at a time, both handles subscribed)");
        var fake = new FakeBackend();
        await using (var embedded = EmbeddedEngine.Create(fake))
        {
            var socket = Path.Combine(embedded.Directory, "hcsd.sock");
            await using var server = await DaemonServer.StartAsync(embedded.Engine, new DaemonOptions { Socket = socket });
            await using var remote = await DaemonClient.ConnectAsync(socket, "bench-remote");
            await using var local = HcsClient.Connect(embedded.Engine, "bench-embedded");
            const string Id = "bench-events";
            await using var localSystem = await TypedSystem.CreateAsync(local, Id, Document("idle"));
            await localSystem.StartAsync();
            await using var remoteSystem = await TypedSystem.OpenAsync(remote.Client, Id);
            var guest = fake.Get(Id);

            var localArrivals = Channel.CreateUnbounded<long>();
            var remoteArrivals = Channel.CreateUnbounded<long>();
            // Taking the first MoveNextAsync here subscribes both handles before the first event is raised.
            var localReader = ArrivalsAsync(localSystem.EventsAsync().GetAsyncEnumerator(), localArrivals.Writer);
            var remoteReader = ArrivalsAsync(remoteSystem.EventsAsync().GetAsyncEnumerator(), remoteArrivals.Writer);
            var localLatency = new List<double>(events);
            var remoteLatency = new List<double>(events);
            Console.WriteLine($"   load {Load()}");
            for (var i = 0; i < events + 100; i++)
            {
                var raised = Stopwatch.GetTimestamp();
                guest.RemoteConsole(i % 2 == 0);
                var l = await localArrivals.Reader.ReadAsync();
                var r = await remoteArrivals.Reader.ReadAsync();
                if (i >= 100)
                {
                    localLatency.Add(Stopwatch.GetElapsedTime(raised, l).TotalMicroseconds);
                    remoteLatency.Add(Stopwatch.GetElapsedTime(raised, r).TotalMicroseconds);
                }

                await Task.Delay(1);
            }

            await localSystem.TerminateAsync();
            await Task.WhenAll(localReader, remoteReader);
            Print("embedded", new Stats(localLatency));
            Print("hcsd (in-process server)", new Stats(remoteLatency));
            Console.WriteLine($"   hcsd − embedded: p50 +{Stats.F(new Stats(remoteLatency).Median - new Stats(localLatency).Median, 0)} µs; load {Load()}");
        }

        await LifecycleEventsAsync(lifecycles, verbose);
    }

    /// <summary>
    /// daemon-events (2): Start → <c>SystemExited</c> of a <c>hcstest=poweroff:0</c> system through a real hcsd
    /// process (<paramref name="build"/>) against the same on the embedded engine, alternating.
    /// </summary>
    /// <returns>hcsd's Start → SystemExited latencies (µs).</returns>
    public static async Task<Stats> LifecycleEventsAsync(int lifecycles, bool verbose, HcsdBuild? build = null)
    {
        build ??= HcsdBuild.Jit;
        Stats result;
        Console.WriteLine($"## daemon-events (2): Start → SystemExited of a hcstest=poweroff:0 system, hcsd process ({build.Name}) vs embedded (n={lifecycles} each after 10 warm-ups, alternating)");
        await using (var hcsd = await HcsdProcess.StartAsync(build: build))
        await using (var embedded = EmbeddedEngine.Create())
        await using (var daemon = await DaemonClient.ConnectAsync(hcsd.Socket, "bench-lifecycle"))
        await using (var local = HcsClient.Connect(embedded.Engine, "bench-lifecycle"))
        {
            Console.WriteLine($"   load {Load()}");
            var samples = new Dictionary<bool, (List<double> StartToExit, List<double> CreateToExit)>
            {
                [false] = ([], []),
                [true] = ([], []),
            };
            for (var i = 0; i < lifecycles + 10; i++)
            {
                foreach (var viaDaemon in i % 2 == 0 ? new[] { false, true } : [true, false])
                {
                    var (startToExit, createToExit) = await PowerOffAsync(viaDaemon ? daemon.Client : local, $"bench-poweroff-{i}");
                    if (i >= 10)
                    {
                        samples[viaDaemon].StartToExit.Add(startToExit);
                        samples[viaDaemon].CreateToExit.Add(createToExit);
                    }

                    if (verbose)
                    {
                        Console.WriteLine($"      {(viaDaemon ? "hcsd" : "embedded")} #{i}: start→exit {Stats.F(startToExit, 0)} µs, create→exit {Stats.F(createToExit, 0)} µs");
                    }
                }
            }

            foreach (var viaDaemon in new[] { false, true })
            {
                Print($"{(viaDaemon ? "hcsd" : "embedded")} start→SystemExited", new Stats(samples[viaDaemon].StartToExit));
                Print($"{(viaDaemon ? "hcsd" : "embedded")} create→SystemExited", new Stats(samples[viaDaemon].CreateToExit));
            }

            Console.WriteLine($"   hcsd/embedded start→exit p50 ratio {Stats.F(new Stats(samples[true].StartToExit).Median / new Stats(samples[false].StartToExit).Median, 2)}; load {Load()}");
            result = new Stats(samples[true].StartToExit);
        }

        return result;
    }

    /// <summary>
    /// hcsd's VmRSS idle, with <paramref name="count"/> idle fake systems created and started (one session, 8 at a
    /// time), and after they were terminated and their handles closed; twice, to show growth. The embedded figure is
    /// the growth of this process's VmRSS for the same workload on an embedded engine.
    /// </summary>
    public static async Task RssAsync(int count)
    {
        Console.WriteLine($"## daemon-rss: hcsd VmRSS idle, with {count} fake systems created+started, after they are removed (twice); the embedded engine's growth of this process for comparison");
        await using (var hcsd = await HcsdProcess.StartAsync())
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            Console.WriteLine($"   hcsd idle (fresh, no client): {Stats.F(hcsd.RssMegabytes(), 1)} MB  load {Load()}");
            await using var client = await DaemonClient.ConnectAsync(hcsd.Socket, "bench-rss");
            for (var pass = 1; pass <= 2; pass++)
            {
                var before = hcsd.RssMegabytes();
                var systems = await CreateManyAsync(client.Client, count, $"rss{pass}");
                await Task.Delay(TimeSpan.FromSeconds(1));
                var with = hcsd.RssMegabytes();
                await RemoveAllAsync(systems);
                await Task.Delay(TimeSpan.FromSeconds(2));
                var after = hcsd.RssMegabytes();
                Console.WriteLine($"   hcsd pass {pass}: before {Stats.F(before, 1)} MB, with {count} systems {Stats.F(with, 1)} MB (+{Stats.F(with - before, 1)}, {Stats.F((with - before) * 1024 / count, 1)} KB/system), after removal {Stats.F(after, 1)} MB  load {Load()}");
            }
        }

        await using (var embedded = EmbeddedEngine.Create())
        await using (var client = HcsClient.Connect(embedded.Engine, "bench-rss"))
        {
            for (var pass = 1; pass <= 2; pass++)
            {
                var before = SelfRss();
                var systems = await CreateManyAsync(client, count, $"rss{pass}");
                await Task.Delay(TimeSpan.FromSeconds(1));
                var with = SelfRss();
                await RemoveAllAsync(systems);
                await Task.Delay(TimeSpan.FromSeconds(2));
                var after = SelfRss();
                Console.WriteLine($"   embedded pass {pass} (bench process): before {Stats.F(before, 1)} MB, with {count} systems {Stats.F(with, 1)} MB (+{Stats.F(with - before, 1)}), after removal {Stats.F(after, 1)} MB  load {Load()}");
            }
        }
    }

    /// <summary>
    /// One client sends <paramref name="requests"/> GetServiceProperties requests on one session (frames of 1,000) and
    /// never reads a reply, for at most <paramref name="seconds"/> s, while a well-behaved client (its own connection)
    /// keeps calling GetProperties on a running system. hcsd's VmRSS is sampled every 250 ms; its VmHWM (peak RSS) is
    /// read at the end. The flooder's writes block once hcsd stops reading it (docs/security.md, <i>Limits</i>).
    /// </summary>
    public static async Task FloodAsync(int requests, double seconds)
    {
        Console.WriteLine($"## daemon-flood: one client sends {requests:N0} requests and never reads a reply; hcsd VmRSS meanwhile, and a well-behaved client's GetProperties");
        await using var hcsd = await HcsdProcess.StartAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        var idle = hcsd.RssMegabytes();
        await using var good = await DaemonClient.ConnectAsync(hcsd.Socket, "bench-good");
        var system = (await CreateManyAsync(good.Client, 1, "flood"))[0];
        for (var i = 0; i < 2000; i++)
        {
            await system.GetPropertiesAsync(); // warm-up
        }

        using var channel = Grpc.Net.Client.GrpcChannel.ForAddress("http://hcsd", new Grpc.Net.Client.GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                    await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(hcsd.Socket), ct);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                },
            },
        });
        using var stop = new CancellationTokenSource();
        using var flood = new Hcs.Protocol.ComputeService.ComputeServiceClient(channel).Session(cancellationToken: stop.Token);
        await flood.RequestStream.WriteAsync(new Hcs.Protocol.ClientFrame { Open = new Hcs.Protocol.OpenSessionRequest { ClientName = "bench-flood" } });
        long written = 0;
        var flooding = Task.Run(async () =>
        {
            const int PerFrame = 1000;
            for (var n = 0; n < requests && !stop.IsCancellationRequested; n += PerFrame)
            {
                var frame = new Hcs.Protocol.ClientFrame();
                for (var i = 0; i < PerFrame; i++)
                {
                    frame.Requests.Add(new Hcs.Protocol.Request { Call = (ulong)(n + i + 1), GetServiceProperties = new Hcs.Protocol.QueryRequest() });
                }

                await flood.RequestStream.WriteAsync(frame, stop.Token);
                Interlocked.Add(ref written, PerFrame);
            }
        });

        var latencies = new List<double>();
        var samples = new List<double>();
        var clock = Stopwatch.StartNew();
        var nextSample = TimeSpan.Zero;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var start = Stopwatch.GetTimestamp();
            await system.GetPropertiesAsync();
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (clock.Elapsed >= nextSample)
            {
                samples.Add(hcsd.RssMegabytes());
                nextSample += TimeSpan.FromMilliseconds(250);
            }
        }

        var peak = hcsd.PeakRssMegabytes();
        var accepted = Interlocked.Read(ref written);
        var calls = new Stats(latencies);
        Console.WriteLine($"   flooder: {accepted:N0} of {requests:N0} requests went into the socket in {Stats.F(seconds, 0)} s (the rest wait in the client: hcsd stopped reading it); finished: {flooding.IsCompleted}");
        Console.WriteLine($"   hcsd VmRSS idle {Stats.F(idle, 1)} MB; during the flood max {Stats.F(samples.Max(), 1)} MB, last {Stats.F(samples[^1], 1)} MB (n = {samples.Count} samples); VmHWM {Stats.F(peak, 1)} MB");
        Console.WriteLine($"   well-behaved client meanwhile: {calls.N:N0} GetProperties ({Stats.F(calls.N / seconds, 0)}/s), p50 {Stats.F(calls.Median, 2)} ms, p99 {Stats.F(calls.Percentile(99), 2)} ms, max {Stats.F(calls.Max, 1)} ms  load {Load()}");
        await stop.CancelAsync();
        try
        {
            await flooding;
        }
        catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException or IOException)
        {
            // Stopped.
        }

        await system.TerminateAsync();
        await system.DisposeAsync();
    }

    /// <summary>The fake VM document of the engine tests (kernel-direct, dummy paths), with guest verb <paramref name="guestVerb"/>.</summary>
    public static string Document(string guestVerb) =>
        FakeDocuments.Vm(guestVerb, "hcs-bench");

    private static async Task<(double StartToExit, double CreateToExit)> PowerOffAsync(HcsClient client, string id)
    {
        var created = Stopwatch.GetTimestamp();
        await using var system = await TypedSystem.CreateAsync(client, id, Document("poweroff:0"));
        await using var events = system.EventsAsync().GetAsyncEnumerator();
        var next = events.MoveNextAsync(); // subscribes before Start
        var started = Stopwatch.GetTimestamp();
        await system.StartAsync();
        while (await next)
        {
            if (events.Current.Type == HcsEventType.SystemExited)
            {
                var exited = Stopwatch.GetTimestamp();
                return (Stopwatch.GetElapsedTime(started, exited).TotalMicroseconds, Stopwatch.GetElapsedTime(created, exited).TotalMicroseconds);
            }

            next = events.MoveNextAsync();
        }

        throw new InvalidOperationException($"{id}: the event stream ended without SystemExited");
    }

    private static async Task ArrivalsAsync(IAsyncEnumerator<HcsEvent> events, ChannelWriter<long> arrivals)
    {
        await using (events)
        {
            var next = events.MoveNextAsync();
            while (await next)
            {
                var stamp = Stopwatch.GetTimestamp();
                if (events.Current.Type == HcsEventType.SystemExited)
                {
                    break;
                }

                if (events.Current.Type == HcsEventType.SystemRdpEnhancedModeStateChanged)
                {
                    arrivals.TryWrite(stamp);
                }

                next = events.MoveNextAsync();
            }
        }
    }

    internal static async Task<List<TypedSystem>> CreateManyAsync(HcsClient client, int count, string prefix)
    {
        var systems = new TypedSystem[count];
        using var gate = new SemaphoreSlim(8);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                systems[i] = await TypedSystem.CreateAsync(client, $"{prefix}-{i}", Document("idle"));
                await systems[i].StartAsync();
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. systems];
    }

    internal static async Task RemoveAllAsync(List<TypedSystem> systems)
    {
        foreach (var system in systems)
        {
            await system.TerminateAsync();
            await system.DisposeAsync();
        }
    }

    private static async Task<(long Calls, List<double> Latencies, TimeSpan Elapsed)> RunForAsync(List<TypedSystem> handles, int inFlight, TimeSpan duration)
    {
        var clock = Stopwatch.StartNew();
        var workers = handles.SelectMany(handle => Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
        {
            var latencies = new List<double>(1 << 14);
            while (clock.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                var properties = await handle.GetPropertiesAsync();
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                if (properties.State != SystemState.Running)
                {
                    throw new InvalidOperationException("unexpected properties");
                }
            }

            return latencies;
        }))).ToList();
        var all = (await Task.WhenAll(workers)).SelectMany(l => l).ToList();
        return (all.Count, all, clock.Elapsed);
    }

    /// <summary>
    /// The same calls one layer down: <see cref="Hcs.Contracts.ISystemHandle.GetPropertiesAsync"/> on hcsd through
    /// <see cref="RemoteService"/> (RemoteSession, no typed client, no parse of the reply), to tell the typed layer's
    /// cost from RemoteSession's.
    /// </summary>
    private static async Task ContractLayerAsync(HcsdProcess hcsd, string id, int sessions, int inFlight, TimeSpan duration)
    {
        var clients = new List<DaemonClient>();
        var handles = new List<Hcs.Contracts.ISystemHandle>();
        for (var i = 0; i < sessions; i++)
        {
            var client = await DaemonClient.ConnectAsync(hcsd.Socket, $"contract-{i}");
            clients.Add(client);
            handles.Add(await client.Client.Session.OpenSystemAsync(id));
        }

        async Task<(long Calls, TimeSpan Elapsed)> RunAsync(TimeSpan length)
        {
            var clock = Stopwatch.StartNew();
            var counts = await Task.WhenAll(handles.SelectMany(h => Enumerable.Range(0, inFlight).Select(_ => Task.Run(async () =>
            {
                long calls = 0;
                while (clock.Elapsed < length)
                {
                    var json = await h.GetPropertiesAsync(null);
                    calls += json.Length > 0 ? 1 : throw new InvalidOperationException("no properties");
                }

                return calls;
            }))));
            return (counts.Sum(), clock.Elapsed);
        }

        await RunAsync(s_warmUp);
        var (selfCpu, daemonCpu) = (SelfCpu(), hcsd.CpuTime());
        var gc = GcProbe.Start();
        var (calls, elapsed) = await RunAsync(duration);
        var gcLine = gc.Report(calls);
        var selfPerCall = (SelfCpu() - selfCpu).TotalMicroseconds / calls;
        var daemonPerCall = (hcsd.CpuTime() - daemonCpu).TotalMicroseconds / calls;
        Console.WriteLine($"            bench process {gcLine}");
        Console.WriteLine($"   contract sessions={sessions,-2} in flight={sessions * inFlight,-3} {Stats.F(calls / elapsed.TotalSeconds, 0),7} calls/s  (n={calls})  load {Load()}");
        Console.WriteLine($"            CPU per call: bench process {Stats.F(selfPerCall, 1)} µs, hcsd {Stats.F(daemonPerCall, 1)} µs → ceiling on {Environment.ProcessorCount} idle cores ≈ {Stats.F(Environment.ProcessorCount * 1e6 / (selfPerCall + daemonPerCall), 0)} calls/s");
        foreach (var handle in handles)
        {
            await handle.DisposeAsync();
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    private static void Print(string what, Stats stats) =>
        Console.WriteLine($"   {what,-34} p50 {Stats.F(stats.Median, 0),6} µs  p90 {Stats.F(stats.Percentile(90), 0),6} µs  p99 {Stats.F(stats.Percentile(99), 0),6} µs  max {Stats.F(stats.Max, 0),6} µs  (n={stats.N})");

    /// <summary>This process's garbage collections over an interval: allocation and gen0/gen2 collections per call, pause time.</summary>
    private readonly record struct GcProbe(long Allocated, int Gen0, int Gen2, TimeSpan Pause)
    {
        public static GcProbe Start() => new(GC.GetTotalAllocatedBytes(), GC.CollectionCount(0), GC.CollectionCount(2), GC.GetTotalPauseDuration());

        public string Report(long calls) =>
            $"GC: {Stats.F((GC.GetTotalAllocatedBytes() - Allocated) / (double)calls, 0)} bytes allocated per call, " +
            $"{GC.CollectionCount(0) - Gen0} gen0 / {GC.CollectionCount(2) - Gen2} gen2 collections, paused {Stats.F((GC.GetTotalPauseDuration() - Pause).TotalMilliseconds, 0)} ms";
    }

    internal static TimeSpan SelfCpu() => HcsdProcess.ReadCpuTime("/proc/self/stat");

    private static double SelfRss() => HcsdProcess.ReadRssMegabytes("/proc/self/status");

    internal static string Load() => File.ReadAllText("/proc/loadavg").Trim();

    /// <summary>A client of hcsd with its own connection (a <see cref="RemoteService"/> of its own), or an embedded client.</summary>
    internal sealed class DaemonClient(RemoteService? remote, HcsClient client) : IAsyncDisposable
    {
        public HcsClient Client { get; } = client;

        public static Task<DaemonClient> ConnectAsync(string socket, string name)
        {
            var remote = RemoteService.Connect(socket);
            return Task.FromResult(new DaemonClient(remote, HcsClient.Connect(remote, name)));
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            if (remote is not null)
            {
                await remote.DisposeAsync();
            }
        }
    }

    /// <summary>An engine built as hcsd builds its own (fake backend), in a temporary directory removed with it.</summary>
    private sealed class EmbeddedEngine : IAsyncDisposable
    {
        private EmbeddedEngine(ComputeEngine engine, string directory)
        {
            Engine = engine;
            Directory = directory;
        }

        public ComputeEngine Engine { get; }

        public string Directory { get; }

        public static EmbeddedEngine Create(FakeBackend? fake = null)
        {
            var directory = System.IO.Directory.CreateTempSubdirectory("hcs-bench-embedded-").FullName;
            var settings = new HostSettings
            {
                Backends = ["fake"],
                StateDirectory = Path.Combine(directory, "state"),
                RuntimeRoot = Path.Combine(directory, "run"),
            };
            return new EmbeddedEngine(fake is null ? ServiceHost.CreateEngine(settings) : ServiceHost.CreateEngine(settings, [fake]), directory);
        }

        public async ValueTask DisposeAsync()
        {
            await Engine.DisposeAsync();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
