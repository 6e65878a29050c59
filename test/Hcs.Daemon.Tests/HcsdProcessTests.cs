// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Client;
using Hcs.Contracts;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Daemon.Tests;

/// <summary>The daemon as a process: its death and its stop are service disconnects for every client.</summary>
public sealed class HcsdProcessTests
{
    private const string Idle = """
        {"SchemaVersion":{"Major":2,"Minor":2},"Owner":"hcsd-tests","VirtualMachine":{"Chipset":{"LinuxKernelDirect":{
        "KernelFilePath":"/fake/vmlinuz","KernelCmdLine":"hcstest=idle"}},"ComputeTopology":{"Memory":{"SizeInMB":256},"Processor":{"Count":1}}}}
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Hcsd_KilledWithSigkill_EveryHandleOfEveryClientGetsServiceDisconnectOnce_AndPendingWaitsFailPromptly()
    {
        await using var hcsd = await HcsdProcess.StartAsync();
        var handles = new List<(ComputeSystem System, Task<List<HcsEventType>> Events)>();
        var clients = new List<HcsClient>();
        for (var c = 0; c < 3; c++)
        {
            var client = Connect(hcsd, $"client{c}");
            clients.Add(client);
            var system = await ComputeSystem.CreateAsync(client, $"k{c}", Idle, Ct);
            await system.StartAsync(Ct);
            handles.Add((system, Collect(system)));
            var opened = await ComputeSystem.OpenAsync(clients[0], $"k{c}", Ct);
            handles.Add((opened, Collect(opened)));
        }

        var wait = handles[0].System.WaitForExitAsync(Ct);
        var clock = Stopwatch.StartNew();
        hcsd.Kill();

        var e = await Assert.ThrowsAsync<HcsException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
        foreach (var (_, events) in handles)
        {
            Assert.Equal([HcsEventType.ServiceDisconnect], await events.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"the disconnect took {clock.Elapsed}");
        Assert.True(clients.All(c => c.Session.Disconnected.IsCancellationRequested), "every session reports the disconnect");
        var later = await Assert.ThrowsAsync<HcsException>(() => handles[1].System.GetPropertiesAsync(cancellationToken: Ct));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, later.HResult);
    }

    [Fact]
    public async Task Hcsd_StoppedWithSigterm_ExitsZero_RemovesItsSocket_AndClientsSeeServiceDisconnect()
    {
        await using var hcsd = await HcsdProcess.StartAsync();
        var client = Connect(hcsd, "watcher");
        var system = await ComputeSystem.CreateAsync(client, "graceful", Idle, Ct);
        await system.StartAsync(Ct);
        var events = Collect(system);
        var wait = system.WaitForExitAsync(Ct);

        Assert.Equal(0, await hcsd.TerminateAsync());

        Assert.False(File.Exists(hcsd.Socket), "the socket is removed");
        Assert.Equal([HcsEventType.ServiceDisconnect], await events.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        var e = await Assert.ThrowsAsync<HcsException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5), Ct));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
        Assert.Contains("hcsd stopping (SIGTERM)", hcsd.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hcsd_RefusesASocketAnotherHcsdServes_AndReplacesAStaleOne()
    {
        await using var first = await HcsdProcess.StartAsync();

        var (code, output) = await HcsdProcess.RunToExitAsync("--socket", first.Socket, "--backends", "fake", "--state-dir", Path.Combine(first.Directory, "state2"));

        Assert.Equal(1, code);
        Assert.Contains($"another service is listening on {first.Socket} and answers as hcsd (pid {first.Process.Id}", output, StringComparison.Ordinal);
        first.Kill(); // leaves its socket file behind
        await first.Process.WaitForExitAsync(Ct);
        Assert.True(File.Exists(first.Socket));
        await using var second = await HcsdProcess.StartAsync(first.Directory); // the same socket path

        await using var client = HcsClient.Connect(new HcsConnectOptions { Socket = second.Socket, Mode = HcsServiceMode.Daemon });
        Assert.Equal("[]", await client.Session.EnumerateSystemsAsync(null, Ct));
    }

    [Fact]
    public async Task Hcsd_FindingAForeignListenerOnItsSocket_ReplacesIt_ServesThere_AndLogsWhoHeldIt()
    {
        var directory = DaemonFakeFixture.SearchableTempDirectory();
        try
        {
            // Something that is not hcsd listens on the path (as QEMU did when a ComPort named hcsd's socket): it
            // accepts and hangs up, speaking no HTTP/2.
            using var foreign = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            foreign.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(directory, "hcsd.sock")));
            foreign.Listen();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var accepting = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var connection = await foreign.AcceptAsync(stop.Token);
                }
            }, Ct);

            await using (var hcsd = await HcsdProcess.StartAsync(directory))
            {
                await using var client = Connect(hcsd, "after-foreign");
                Assert.Equal("[]", await client.Session.EnumerateSystemsAsync(null, Ct));
                Assert.Contains($"was held by pid {Environment.ProcessId} ", hcsd.Log, StringComparison.Ordinal);
                Assert.Contains("did not answer as hcsd", hcsd.Log, StringComparison.Ordinal);
            }

            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Hcsd_UnderUmask000_PutsItsSocketInPlaceWithMode0660Already_AndNoNonMemberCanConnect()
    {
        var directory = DaemonFakeFixture.SearchableTempDirectory();
        var socket = Path.Combine(directory, "hcsd.sock");
        var seen = new List<UnixFileMode>();
        using var watcher = new FileSystemWatcher(directory) { IncludeSubdirectories = false };
        void Look(object? sender, FileSystemEventArgs e)
        {
            if (e.Name == "hcsd.sock")
            {
                try
                {
                    var mode = File.GetUnixFileMode(socket); // at once: the first mode the path ever shows
                    lock (seen)
                    {
                        seen.Add(mode);
                    }
                }
                catch (IOException)
                {
                    // Gone again.
                }
            }
        }

        watcher.Created += Look;
        watcher.Renamed += Look;
        watcher.Changed += Look;
        watcher.EnableRaisingEvents = true;
        try
        {
            await using var hcsd = await HcsdProcess.StartUnderUmaskAsync("000", directory);

            const UnixFileMode Mode0660 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
            Assert.Equal(Mode0660, File.GetUnixFileMode(socket));
            lock (seen)
            {
                Assert.NotEmpty(seen);
                Assert.All(seen, mode => Assert.Equal(Mode0660, mode));
            }

            var e = Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => PeerIdentity.ConnectAs(socket, 65534, 65534));
            Assert.Equal(System.Net.Sockets.SocketError.AccessDenied, e.SocketErrorCode);
            Assert.Equal(["hcsd.sock"], Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName)
                .Where(n => n!.StartsWith(".hcsd.sock", StringComparison.Ordinal) || n == "hcsd.sock"));
        }
        finally
        {
            watcher.EnableRaisingEvents = false;
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Hcsd_LimitOptions_MapToDaemonLimitsAndCrashReportQuotas()
    {
        var parsed = DaemonCommandLine.Parse(["--max-outbox-mib", "8", "--max-calls-per-session", "64", "--max-calls-per-uid", "128", "--max-queued", "32",
            "--max-sessions-per-uid", "9", "--max-connections-per-uid", "10", "--open-timeout", "2.5", "--wer-max-reports", "7", "--wer-max-mib", "3", "--wer-max-directory-mib", "50"]);

        Assert.Equal(new DaemonLimits
        {
            MaxOutboxBytes = 8L << 20,
            MaxCallsPerSession = 64,
            MaxCallsPerUid = 128,
            MaxQueuedRequests = 32,
            MaxSessionsPerUid = 9,
            MaxConnectionsPerUid = 10,
            OpenTimeout = TimeSpan.FromSeconds(2.5),
        }, parsed.Limits);
        Assert.Equal(new CrashReportLimits { MaxReportsPerUid = 7, MaxBytesPerUid = 3L << 20, MaxDirectoryBytes = 50L << 20 }, parsed.Settings.CrashReports);
        var e = Assert.Throws<ArgumentException>(() => DaemonCommandLine.Parse(["--max-calls-per-uid", "0"]));
        Assert.Contains("--max-calls-per-uid takes a positive whole number, not '0'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HcsClient_PicksHcsdWhenItsSocketExists_AndTheEmbeddedEngineOtherwise()
    {
        await using var hcsd = await HcsdProcess.StartAsync();

        await using (var daemon = HcsClient.Connect(new HcsConnectOptions { Socket = hcsd.Socket }))
        {
            Assert.True(daemon.IsDaemon);
            Assert.Contains("SupportedSchemaVersions", await daemon.Session.GetServicePropertiesAsync(null, Ct), StringComparison.Ordinal);
        }

        var missing = Path.Combine(hcsd.Directory, "absent.sock");
        await using (var embedded = Hcs.Host.EmbeddedHcs.Connect(
            new HcsConnectOptions { Socket = missing },
            new Hcs.Host.HostSettings { Backends = ["fake"], RuntimeRoot = Path.Combine(hcsd.Directory, "embedded"), StateDirectory = null }))
        {
            Assert.False(embedded.IsDaemon);
        }

        var e = Assert.Throws<HcsException>(() => HcsClient.Connect(new HcsConnectOptions { Socket = missing, Mode = HcsServiceMode.Daemon }));
        Assert.Equal(HResults.HCS_E_SERVICE_DISCONNECT, e.HResult);
    }

    [Fact]
    public async Task Hcsd_RejectsUnknownOptionsWithItsUsage()
    {
        var (code, output) = await HcsdProcess.RunToExitAsync("--no-such-option");

        Assert.Equal(2, code);
        Assert.Contains("unknown option '--no-such-option'", output, StringComparison.Ordinal);
        Assert.Contains("usage: hcsd", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hcsd_Version_PrintsTheVersionFile_AndTheCommit_AsHcsctlDoes()
    {
        var version = File.ReadAllText(Repository.Path("VERSION")).Trim();

        var (code, output, error) = await HcsdProcess.RunToExitSeparatelyAsync("--version");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Matches($@"^hcsd {System.Text.RegularExpressions.Regex.Escape(version)}( \(commit [0-9a-f]{{40}}\))?\n$", output);
        Assert.Equal(output["hcsd".Length..], Hcs.Schema.HcsVersion.Describe("hcsctl")["hcsctl".Length..] + "\n");
    }

    [Fact]
    public async Task GetServiceProperties_ThroughHcsd_CarriesTheVersion()
    {
        await using var hcsd = await HcsdProcess.StartAsync();
        await using var client = Connect(hcsd, "version");

        var properties = Hcs.Schema.HcsJson.Deserialize<Hcs.Schema.ServiceProperties>(await client.Session.GetServicePropertiesAsync(null, Ct));

        var basic = Hcs.Schema.HcsJson.Deserialize<Hcs.Schema.BasicInformation>(Assert.Single(properties.Properties!));
        Assert.Equal(File.ReadAllText(Repository.Path("VERSION")).Trim(), basic.ServiceVersion);
    }

    private static HcsClient Connect(HcsdProcess hcsd, string name) =>
        HcsClient.Connect(new HcsConnectOptions { Socket = hcsd.Socket, Mode = HcsServiceMode.Daemon, ClientName = name });

    private static async Task<List<HcsEventType>> Collect(ComputeSystem system)
    {
        var types = new List<HcsEventType>();
        await foreach (var e in system.EventsAsync())
        {
            types.Add(e.Type);
        }

        return types;
    }
}

/// <summary>
/// The systemd unit shipped in contrib/ (the package's) starts hcsd with options it accepts, takes its settings from the
/// shipped hcsd.conf, and keeps systems alive across restarts and package removal.
/// </summary>
public sealed class SystemdUnitTests
{
    [Fact]
    public void Unit_StartsHcsdWithOptionsItAccepts_AndSignalsOnlyTheDaemon()
    {
        var lines = File.ReadAllLines(Repository.Path("contrib", "hcsd.service"));
        var exec = lines.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var (settings, _, _) = DaemonCommandLine.Parse(exec[1..], Repository.Path("contrib", "hcsd.conf"));

        Assert.Equal("/usr/sbin/hcsd", exec[0]);
        Assert.Equal("/run/hcs/hcsd.sock", settings.Socket);
        Assert.Equal("hcs", settings.SocketGroup);
        Assert.Contains("KillMode=process", lines);
        // systemd would empty a RuntimeDirectory= (/run/hcs: the systems' runtime directories) when hcsd stops.
        Assert.DoesNotContain(lines, l => l.StartsWith("RuntimeDirectory=", StringComparison.Ordinal));
    }
}
