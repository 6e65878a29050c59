// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;
using ClientComputeSystem = Hcs.Client.ComputeSystem;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// An engine on the QEMU backend (TCG, with the diagnostics monitor so tests can look at a VM over QMP), a client
/// session, a runtime root and a scratch directory, all removed at the end.
/// </summary>
internal sealed partial class QemuEngineHarness : IAsyncDisposable
{
    public static readonly TimeSpan Boot = TimeSpan.FromSeconds(90);

    private readonly DirectoryInfo _run;
    private readonly DirectoryInfo _scratch;

    public QemuEngineHarness()
    {
        Requires.Vms();
        _run = Directory.CreateTempSubdirectory("hcs-qemu-run-");
        _scratch = Directory.CreateTempSubdirectory("hcs-qemu-data-");
        Engine = new ComputeEngine([new QemuBackend(new QemuSettings { DiagnosticsMonitor = true }, _run.FullName)],
            new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(60) });
        Session = HcsClient.Connect(Engine, "qemu-tests");
    }

    public ComputeEngine Engine { get; }

    public HcsClient Session { get; }

    /// <summary>A directory for the test's files (saved states, disk images).</summary>
    public string Scratch => _scratch.FullName;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A test-guest VM document: kernel-direct boot with <c>hcstest=verb</c>, 256 MB, 1 CPU.</summary>
    public static SchemaComputeSystem Document(string verb, Devices? devices = null) => TestGuest.Document(verb, devices);

    public Task<ClientComputeSystem> CreateAsync(string id, SchemaComputeSystem document) =>
        ClientComputeSystem.CreateAsync(Session, id, document, Ct);

    public string ConsoleLog(string id) => Path.Combine(_run.FullName, id, QemuCommandLine.ConsoleLog);

    public async Task<string> ConsoleAsync(string id) =>
        File.Exists(ConsoleLog(id)) ? await File.ReadAllTextAsync(ConsoleLog(id), Ct) : "";

    /// <summary>Waits until the console of <paramref name="id"/> satisfies <paramref name="done"/>; returns it.</summary>
    public async Task<string> WaitForConsoleAsync(string id, Func<string, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var text = await ConsoleAsync(id);
            if (done(text))
            {
                return text;
            }

            Assert.True(clock.Elapsed < Boot, $"{what} never appeared on the console of {id}:\n{text}");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Waits until <paramref name="text"/> appears on the console at or after character <paramref name="from"/>.</summary>
    public Task<string> WaitForConsoleAsync(string id, string text, int from = 0) =>
        WaitForConsoleAsync(id, log => log.Length > from && log.IndexOf(text, from, StringComparison.Ordinal) >= 0, $"'{text}'");

    /// <summary>The values of the guest's <c>hcs-guest: counter N</c> lines, in order.</summary>
    public static IReadOnlyList<int> Counters(string console) =>
        [.. CounterLine().Matches(console).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];

    /// <summary>Connects to the VM's diagnostics QMP monitor.</summary>
    public Task<QmpClient> DiagnosticsAsync(string id) =>
        QmpClient.ConnectAsync(Path.Combine(_run.FullName, id, QemuCommandLine.DiagnosticsSocket), Ct);

    [GeneratedRegex(@"hcs-guest: counter (\d+)")]
    private static partial Regex CounterLine();

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        await Engine.DisposeAsync();
        _run.Delete(recursive: true);
        _scratch.Delete(recursive: true);
    }
}
