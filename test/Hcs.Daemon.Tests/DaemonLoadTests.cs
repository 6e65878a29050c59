// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Diagnostics;
using Hcs.Backends.Fake;
using Hcs.Client;
using TypedSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Daemon.Tests;

/// <summary>
/// A bounded load test of hcsd over loopback: 32 clients, each with its own connection to an in-process
/// <see cref="DaemonServer"/> (fake backend), run 1,000 random operations each on a shared pool of system ids, so that
/// verbs race each other, guests that power off by themselves, and other clients' terminates. Every error must be one
/// that the operation can meet in a race (classified per verb); every handle still open at the end must have received
/// <c>SystemExited</c> exactly once, a closed handle at most once, and no handle anything after it.
/// </summary>
public sealed class DaemonLoadTests
{
    private const int Clients = 32;
    private const int OperationsPerClient = 1000;
    private const int Ids = 48;
    private const int MaxHandlesPerClient = 6;
    private const int Seed = 20261203;

    private static readonly int[] s_lifecycleRaces =
    [
        HResults.HCS_E_INVALID_STATE, HResults.HCS_E_SYSTEM_ALREADY_STOPPED, HResults.HCS_E_TERMINATED,
        HResults.HCS_E_UNEXPECTED_EXIT, HResults.HCS_E_TERMINATED_DURING_START,
    ];

    /// <summary>What each operation may fail with when it races the others; anything else fails the test.</summary>
    private static readonly Dictionary<Operation, int[]> s_expected = new()
    {
        [Operation.Create] = [HResults.HCS_E_SYSTEM_ALREADY_EXISTS],
        [Operation.Open] = [HResults.HCS_E_SYSTEM_NOT_FOUND],
        [Operation.Start] = s_lifecycleRaces,
        [Operation.Pause] = s_lifecycleRaces,
        [Operation.Resume] = s_lifecycleRaces,
        // A paused guest never sees the power button (it acts on it when resumed), so a ShutDown of a paused system
        // waits out the engine's ShutdownTimeout and fails with ERROR_TIMEOUT, the system still paused.
        [Operation.ShutDown] = [.. s_lifecycleRaces, HResults.ERROR_TIMEOUT],
        [Operation.Terminate] = [HResults.HCS_E_SYSTEM_ALREADY_STOPPED],
        [Operation.Properties] = [],
        [Operation.Enumerate] = [],
        [Operation.Close] = [],
    };

    private enum Operation
    {
        Create,
        Open,
        Start,
        Properties,
        Pause,
        Resume,
        ShutDown,
        Terminate,
        Close,
        Enumerate,
    }

    [Fact]
    public async Task MixedOperationsFromManyClients_DeliverSystemExitedOncePerHandle_AndFailOnlyAsRacesAllow()
    {
        var ct = TestContext.Current.CancellationToken;
        var directory = Directory.CreateTempSubdirectory("hcsd-load-").FullName;
        var socket = Path.Combine(directory, "hcsd.sock");
        var engine = new ComputeEngine([new FakeBackend()], new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(1) });
        var server = await DaemonServer.StartAsync(engine, new DaemonOptions { Socket = socket }, cancellationToken: ct);
        var outcomes = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var unexpected = new ConcurrentQueue<string>();
        var everyHandle = new ConcurrentQueue<TrackedHandle>();
        var clients = new List<LoadClient>();
        var clock = Stopwatch.StartNew();
        try
        {
            for (var c = 0; c < Clients; c++)
            {
                var remote = RemoteService.Connect(socket);
                clients.Add(new LoadClient(c, remote, HcsClient.Connect(remote, $"load-{c}"), outcomes, unexpected, everyHandle));
            }

            await Task.WhenAll(clients.Select(client => Task.Run(() => client.RunAsync(OperationsPerClient), ct))).WaitAsync(TimeSpan.FromSeconds(120), ct);
            var operationsDone = clock.Elapsed;

            // Stop every system that is left, through a client of its own, so each open handle must see its exit.
            var remoteCleaner = RemoteService.Connect(socket);
            await using (remoteCleaner)
            await using (var cleaner = HcsClient.Connect(remoteCleaner, "load-cleaner"))
            {
                foreach (var properties in await TypedSystem.EnumerateAsync(cleaner, cancellationToken: ct))
                {
                    try
                    {
                        await using var system = await TypedSystem.OpenAsync(cleaner, properties.Id!, ct);
                        await system.TerminateAsync(ct);
                    }
                    catch (HcsException e) when (e.HResult is HResults.HCS_E_SYSTEM_NOT_FOUND or HResults.HCS_E_SYSTEM_ALREADY_STOPPED)
                    {
                        // Forgotten or stopped in between.
                    }
                }
            }

            var open = everyHandle.Where(h => !h.Closed).ToList();
            var deadline = Stopwatch.StartNew();
            while (open.Any(h => Volatile.Read(ref h.Exited) == 0) && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10, ct);
            }

            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            await Task.WhenAll(everyHandle.Select(h => h.Pump)).WaitAsync(TimeSpan.FromSeconds(10), ct);

            var summary = string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{Clients}×{OperationsPerClient} operations in {operationsDone.TotalSeconds:F1} s ({Clients * OperationsPerClient / operationsDone.TotalSeconds:F0}/s), " +
                $"{everyHandle.Count} handles ({open.Count} open at the end): {summary}");

            Assert.True(unexpected.IsEmpty, $"{unexpected.Count} unexpected errors, first: {string.Join("\n", unexpected.Take(10))}");
            Assert.Equal(Clients * OperationsPerClient, outcomes.Values.Sum());
            var missing = open.Where(h => h.Exited != 1).Select(h => $"{h.Id} (handle of client {h.Client}): {h.Exited} SystemExited").ToList();
            Assert.True(missing.Count == 0, $"open handles without exactly one SystemExited: {string.Join("; ", missing.Take(10))}");
            var duplicated = everyHandle.Where(h => h.Exited > 1).Select(h => $"{h.Id} (client {h.Client}): {h.Exited}").ToList();
            Assert.True(duplicated.Count == 0, $"handles with SystemExited more than once: {string.Join("; ", duplicated.Take(10))}");
            var after = everyHandle.Where(h => !h.AfterExit.IsEmpty).Select(h => $"{h.Id} (client {h.Client}): {string.Join(',', h.AfterExit)}").ToList();
            Assert.True(after.Count == 0, $"events after SystemExited: {string.Join("; ", after.Take(10))}");
            var pumpFailures = everyHandle.Where(h => h.Pump.IsFaulted).Select(h => $"{h.Id}: {h.Pump.Exception?.InnerException?.Message}").ToList();
            Assert.True(pumpFailures.Count == 0, $"event streams that failed: {string.Join("; ", pumpFailures.Take(10))}");
            Assert.True(open.Count > 0, "no handle was open at the end: the exactly-once check proved nothing");
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            await server.DisposeAsync();
            await engine.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A handle and the count of what its event stream delivered.</summary>
    private sealed class TrackedHandle
    {
        public int Exited;

        public TrackedHandle(int client, TypedSystem system)
        {
            Client = client;
            System = system;
            Pump = PumpAsync(); // subscribes now, before the client's next operation
        }

        public int Client { get; }

        public TypedSystem System { get; }

        public string Id => System.Id;

        public bool Closed { get; set; }

        public ConcurrentQueue<HcsEventType> AfterExit { get; } = new();

        public Task Pump { get; }

        private async Task PumpAsync()
        {
            await foreach (var e in System.EventsAsync())
            {
                if (Volatile.Read(ref Exited) > 0)
                {
                    AfterExit.Enqueue(e.Type);
                }

                if (e.Type == HcsEventType.SystemExited)
                {
                    Interlocked.Increment(ref Exited);
                }
            }
        }
    }

    /// <summary>One client: its own connection and session, its handles, and a reproducible random workload.</summary>
    private sealed class LoadClient(int index, RemoteService remote, HcsClient client, ConcurrentDictionary<string, int> outcomes,
        ConcurrentQueue<string> unexpected, ConcurrentQueue<TrackedHandle> everyHandle) : IAsyncDisposable
    {
#pragma warning disable CA5394 // not security: a reproducible workload
        private readonly Random _random = new(Seed + index);
        private readonly List<TrackedHandle> _handles = [];
        private int _disposed;

        public async Task RunAsync(int operations)
        {
            for (var i = 0; i < operations; i++)
            {
                var operation = Pick();
                var handle = _handles.Count > 0 ? _handles[_random.Next(_handles.Count)] : null;
                if (handle is null && operation is not (Operation.Create or Operation.Open or Operation.Enumerate))
                {
                    operation = Operation.Open; // a verb needs a handle: get one
                }

                try
                {
                    await RunAsync(operation, handle);
                    Count(operation, "ok");
                }
                catch (HcsException e) when (s_expected[operation].Contains(e.HResult))
                {
                    Count(operation, HResults.NameOf(e.HResult));
                }
                catch (HcsException e)
                {
                    Count(operation, HResults.NameOf(e.HResult));
                    unexpected.Enqueue($"client {index} #{i} {operation} {handle?.Id}: {HResults.NameOf(e.HResult)} {e.Message}");
                }

                while (_handles.Count > MaxHandlesPerClient)
                {
                    await CloseAsync(_handles[0]);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            foreach (var handle in _handles.ToList())
            {
                await CloseAsync(handle);
            }

            await client.DisposeAsync();
            await remote.DisposeAsync();
        }

        // Weighted so that most calls can succeed: failures cost exceptions on both sides of the socket, and
        // Enumerate returns every system's properties.
        private Operation Pick() => _random.Next(100) switch
        {
            < 10 => Operation.Create,
            < 20 => Operation.Open,
            < 28 => Operation.Start,
            < 58 => Operation.Properties,
            < 66 => Operation.Pause,
            < 74 => Operation.Resume,
            < 80 => Operation.ShutDown,
            < 86 => Operation.Terminate,
            < 98 => Operation.Close,
            _ => Operation.Enumerate,
        };

        private string RandomId() => $"load-{_random.Next(Ids)}";

        private async Task RunAsync(Operation operation, TrackedHandle? handle)
        {
            switch (operation)
            {
                case Operation.Create:
                    // Four in ten guests power off by themselves within 20 ms of starting.
                    var verb = _random.Next(10) < 4 ? $"poweroff:{_random.Next(21)}" : "idle";
                    Track(await TypedSystem.CreateAsync(client, RandomId(), LoadDocument(verb)));
                    break;
                case Operation.Open:
                    Track(await TypedSystem.OpenAsync(client, RandomId()));
                    break;
                case Operation.Start:
                    await handle!.System.StartAsync();
                    break;
                case Operation.Properties:
                    var properties = await handle!.System.GetPropertiesAsync();
                    Assert.Equal(handle.Id, properties.Id);
                    break;
                case Operation.Pause:
                    await handle!.System.PauseAsync();
                    break;
                case Operation.Resume:
                    await handle!.System.ResumeAsync();
                    break;
                case Operation.ShutDown:
                    await handle!.System.ShutDownAsync();
                    break;
                case Operation.Terminate:
                    await handle!.System.TerminateAsync();
                    break;
                case Operation.Close:
                    await CloseAsync(handle!);
                    break;
                case Operation.Enumerate:
                    _ = await TypedSystem.EnumerateAsync(client);
                    break;
            }
        }
#pragma warning restore CA5394

        private void Track(TypedSystem system)
        {
            var handle = new TrackedHandle(index, system);
            _handles.Add(handle);
            everyHandle.Enqueue(handle);
        }

        private async Task CloseAsync(TrackedHandle handle)
        {
            _handles.Remove(handle);
            handle.Closed = true;
            await handle.System.DisposeAsync();
        }

        private void Count(Operation operation, string outcome) => outcomes.AddOrUpdate($"{operation}/{outcome}", 1, (_, n) => n + 1);
    }

    private static string LoadDocument(string guestVerb) =>
        FakeDocuments.Vm(guestVerb, "hcs-load");
}
