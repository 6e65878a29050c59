// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// The engine on the QEMU backend (TCG): each exit cause triggered for real. One VM at a time (tests in a class run
/// sequentially).
/// </summary>
public sealed class QemuBackendTests : IAsyncLifetime
{
    private static readonly TimeSpan s_boot = TimeSpan.FromSeconds(90);
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-qemu-run-");
    private readonly DirectoryInfo _crash = Directory.CreateTempSubdirectory("hcs-qemu-crash-");
    private ComputeEngine _engine = null!;
    private HcsClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _engine = new ComputeEngine([new QemuBackend(new QemuSettings(), _run.FullName)],
            new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(60), CrashDirectory = CrashDirectory });
        _client = HcsClient.Connect(_engine, "qemu-tests");
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _engine.DisposeAsync();
        _run.Delete(recursive: true);
        _crash.Delete(recursive: true);
    }

    private string CrashDirectory => Path.Combine(_crash.FullName, "reports");

    private static SchemaComputeSystem Document(string verb, bool crashReporting = false, Devices? devices = null) =>
        TestGuest.Document(verb, crashReporting ? (devices ?? new Devices()) with { GuestCrashReporting = new GuestCrashReporting() } : devices);

    private async Task WaitForConsoleAsync(string id, string text)
    {
        var log = Path.Combine(_run.FullName, id, QemuCommandLine.ConsoleLog);
        var clock = Stopwatch.StartNew();
        while (!(File.Exists(log) && (await File.ReadAllTextAsync(log, Ct)).Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(clock.Elapsed < s_boot, $"'{text}' never appeared on the console");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task GuestPowerOff_IsAGracefulExitInitiatedByTheGuest_AndTheRuntimeDirectoryIsRemoved()
    {
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "poweroff", Document("poweroff:200"), Ct);
        Assert.Equal(SystemState.Created, (await vm.GetPropertiesAsync(cancellationToken: Ct)).State);
        await vm.StartAsync(Ct);
        var exit = await vm.WaitForExitAsync(Ct).WaitAsync(s_boot, Ct);
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(ExitInitiator.GuestOS, exit.Attribution![0].SystemExit!.Initiator);
        var clock = Stopwatch.StartNew();
        while (Directory.Exists(Path.Combine(_run.FullName, "poweroff")) && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20, Ct);
        }

        Assert.False(Directory.Exists(Path.Combine(_run.FullName, "poweroff")));
    }

    [Fact]
    public async Task ShutDown_PressesThePowerButton_AndCompletesWhenTheGuestPowersOff()
    {
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "acpi", Document("idle"), Ct);
        await vm.StartAsync(Ct);
        await WaitForConsoleAsync("acpi", "hcs-guest: idle");
        var statistics = (await vm.GetPropertiesAsync([SystemPropertyType.Statistics], Ct)).Statistics!;
        Assert.True(statistics.Processor!.TotalRuntime100ns > 0);
        Assert.True(statistics.Memory!.MemoryUsagePrivateWorkingSetBytes > 0);
        await vm.ShutDownAsync(cancellationToken: Ct).WaitAsync(s_boot, Ct);
        var exit = await vm.WaitForExitAsync(Ct);
        Assert.Equal(NotificationType.GracefulExit, exit.ExitType);
        Assert.Equal(ExitInitiator.Client, exit.Attribution![0].SystemExit!.Initiator);
    }

    [Fact]
    public async Task Terminate_IsAForcedExit_AndKillingQemuIsAnUnexpectedExit()
    {
        await using (var vm = await Client.ComputeSystem.CreateAsync(_client, "terminate", Document("idle"), Ct))
        {
            await vm.StartAsync(Ct);
            await vm.TerminateAsync(Ct);
            Assert.Equal(NotificationType.ForcedExit, (await vm.WaitForExitAsync(Ct)).ExitType);
        }

        await using var killed = await Client.ComputeSystem.CreateAsync(_client, "killed", Document("idle"), Ct);
        await killed.StartAsync(Ct);
        var marker = Path.Combine(_run.FullName, "killed");
        var pid = Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => n!.All(char.IsAsciiDigit))
            .Select(int.Parse!).Single(p =>
            {
                try
                {
                    return File.ReadAllText($"/proc/{p}/cmdline").Contains(marker, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            });
        Process.GetProcessById(pid).Kill();
        var exit = await killed.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        Assert.Equal(NotificationType.UnexpectedExit, exit.ExitType);
        Assert.Equal(137u, exit.Attribution![0].WorkerExit!.ExitCode);
    }

    [Fact]
    public async Task GuestPanic_CrashInitiatedThenCrashReportWithThePanicTextThenExited()
    {
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "panic", Document("panic:200", crashReporting: true), Ct);
        var events = new List<HcsEvent>();
        var reading = Subscribe.Now(async () =>
        {
            await foreach (var e in vm.EventsAsync(Ct))
            {
                events.Add(e);
                if (e.Type == HcsEventType.SystemExited)
                {
                    return;
                }
            }
        });
        await vm.StartAsync(Ct);
        await reading.WaitAsync(s_boot, Ct);
        Assert.Equal([HcsEventType.SystemCrashInitiated, HcsEventType.SystemCrashReport, HcsEventType.SystemExited], events.Select(e => e.Type));
        var report = HcsJson.Deserialize<CrashReport>(events[1].EventData!);
        Assert.Contains("Kernel panic - not syncing", report.CrashLog, StringComparison.Ordinal);
        Assert.Equal(NotificationType.UnexpectedExit, HcsJson.Deserialize<SystemExitStatus>(events[2].EventData!).ExitType);
    }

    [Fact]
    public async Task SubmitWerReport_OfARealGuestPanicsCrashReport_FilesTheReportWithThePanicText()
    {
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "wer", Document("panic:200", crashReporting: true), Ct);
        var reading = Subscribe.Now(async () =>
        {
            await foreach (var e in vm.EventsAsync(Ct))
            {
                if (e.Type == HcsEventType.SystemCrashReport)
                {
                    return e.EventData!;
                }
            }

            throw new InvalidOperationException("the system exited without a crash report");
        });
        await vm.StartAsync(Ct);
        var eventData = await reading.WaitAsync(s_boot, Ct);

        using (HcsClient.Use(_client))
        {
            Assert.Equal(HResults.S_OK, ComputeCore.HcsSubmitWerReport(eventData));
        }

        var filed = Assert.Single(Directory.GetFiles(CrashDirectory, "wer-*.json"));
        var report = HcsJson.Deserialize<CrashReport>(await File.ReadAllTextAsync(filed, Ct));
        Assert.Equal("wer", report.SystemId);
        Assert.Contains("Kernel panic - not syncing", report.CrashLog, StringComparison.Ordinal);
        Assert.Contains("Kernel panic - not syncing", await File.ReadAllTextAsync(Path.ChangeExtension(filed, ".log"), Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemoteConsole_VncClientConnectingAndLeaving_ArriveAsRdpEnhancedModeStateChanges_InOrder()
    {
        var devices = new Devices
        {
            VideoMonitor = new VideoMonitor { HorizontalResolution = 1024, VerticalResolution = 768 },
            Keyboard = new Keyboard(),
            Mouse = new Mouse(),
        };
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "console", Document("idle", devices: devices), Ct);
        var changes = new List<RemoteConsoleStateChange>();
        var reading = Subscribe.Now(async () =>
        {
            await foreach (var e in vm.EventsAsync(Ct))
            {
                if (e.Type == HcsEventType.SystemRdpEnhancedModeStateChanged)
                {
                    changes.Add(HcsJson.Deserialize<RemoteConsoleStateChange>(e.EventData!));
                    if (changes[^1].State == RemoteConsoleState.Disconnected)
                    {
                        return;
                    }
                }
            }
        });
        await vm.StartAsync(Ct);

        // The documented endpoint: the runtime directory's vnc.sock. An RFB 3.8 client up to ServerInit, then gone.
        var endpoint = Path.Combine(_run.FullName, "console", QemuCommandLine.VncSocket);
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint), Ct);
            await using var rfb = new NetworkStream(socket);
            Assert.Equal("RFB 003.008\n", Encoding.ASCII.GetString(await ReadExactlyAsync(rfb, 12)));
            await rfb.WriteAsync("RFB 003.008\n"u8.ToArray(), Ct);
            var types = await ReadExactlyAsync(rfb, (await ReadExactlyAsync(rfb, 1))[0]);
            Assert.Contains((byte)1, types); // None: the socket's file permissions are the access control
            await rfb.WriteAsync(new byte[] { 1 }, Ct);
            Assert.Equal(new byte[4], await ReadExactlyAsync(rfb, 4)); // SecurityResult OK
            await rfb.WriteAsync(new byte[] { 1 }, Ct); // ClientInit, shared
            var init = await ReadExactlyAsync(rfb, 24);
            Assert.True(BinaryPrimitives.ReadUInt16BigEndian(init) > 0 && BinaryPrimitives.ReadUInt16BigEndian(init.AsSpan(2)) > 0);
        }

        await reading.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal([RemoteConsoleState.Connected, RemoteConsoleState.Initialized, RemoteConsoleState.Disconnected], changes.Select(c => c.State));
        Assert.Equal([true, true, false], changes.Select(c => c.Connected));
        Assert.Equal([1u, 1u, 0u], changes.Select(c => c.Clients ?? 99));
        Assert.All(changes, c => Assert.Equal(("vnc", endpoint), (c.Protocol, c.Endpoint)));
        Assert.True(changes[0].Timestamp <= changes[1].Timestamp && changes[1].Timestamp <= changes[2].Timestamp);
        await vm.TerminateAsync(Ct);
    }

    [Fact]
    public async Task VirtioSerialPort_TheGuestsLineReachesTheHostSocket_AndItsCloseIsGuestConnectionClosedNamingThePort()
    {
        var pipe = Path.Combine(_run.FullName, "agent.sock");
        var devices = new Devices
        {
            VirtioSerial = new VirtioSerial { Ports = new Dictionary<string, VirtioSerialPort> { ["0"] = new() { Name = "org.hcs.test", NamedPipe = pipe } } },
        };
        await using var vm = await Client.ComputeSystem.CreateAsync(_client, "vport", Document("vport:0", devices: devices), Ct);
        var closed = Subscribe.Now(async () =>
        {
            await foreach (var e in vm.EventsAsync(Ct))
            {
                if (e.Type is HcsEventType.SystemGuestConnectionClosed or HcsEventType.SystemExited)
                {
                    return e;
                }
            }

            throw new InvalidOperationException("the event stream ended");
        });

        // QEMU serves the port's NamedPipe; connect before the guest runs so nothing it writes waits in the queue.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(pipe), Ct);
        using var reader = new StreamReader(new NetworkStream(socket), Encoding.UTF8);
        await vm.StartAsync(Ct);

        Assert.Equal("hcs-guest: hello from org.hcs.test", await reader.ReadLineAsync(Ct).AsTask().WaitAsync(s_boot, Ct));
        var e = await closed.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(HcsEventType.SystemGuestConnectionClosed, e.Type);
        var info = HcsJson.Deserialize<GuestConnectionClosedInfo>(e.EventData!);
        Assert.Equal(("0", "org.hcs.test", pipe), (info.Port, info.Name, info.NamedPipe));
        Assert.NotNull(info.Timestamp);
        await vm.TerminateAsync(Ct);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return buffer;
    }
}
