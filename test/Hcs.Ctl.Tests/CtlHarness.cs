// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Daemon;
using Hcs.Engine;
using Hcs.Schema;

namespace Hcs.Ctl.Tests;

/// <summary>What one hcsctl invocation did.</summary>
public sealed record CtlResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>How hcsctl reaches the service in a <see cref="CtlHarness"/>.</summary>
public enum CtlTransport
{
    /// <summary>A client in the same process as the engine (no socket).</summary>
    InProcess,

    /// <summary>
    /// The real daemon transport: the engine is served by <see cref="DaemonServer"/> on a Unix socket, and every
    /// invocation is run as <c>hcsctl --socket PATH ...</c> and connects with <see cref="HcsClient.Connect(HcsConnectOptions)"/>,
    /// exactly as the hcsctl program does.
    /// </summary>
    Hcsd,

    /// <summary>
    /// The shipped hcsctl: the engine served by <see cref="DaemonServer"/> on a Unix socket as for <see cref="Hcsd"/>,
    /// and every invocation run as the NativeAOT <c>artifacts/bin/hcsctl --socket PATH ...</c> process
    /// (<see cref="HcsctlProcess"/>: stdin piped, stdout, stderr and the exit code). There is no terminal and no
    /// interrupt source to fake; a test needing them skips.
    /// </summary>
    NativeProcess,
}

/// <summary>
/// Runs hcsctl in-process against one service that outlives each invocation, as hcsd would: every invocation connects
/// a fresh client (its handles close when it returns, like a process exiting).
/// </summary>
public sealed class CtlHarness : IAsyncDisposable
{
    public const string ContainerDocument = """{"Owner":"tests","Container":{"Storage":{"Path":"/scratch"}}}""";

    static CtlHarness()
    {
        Verbs.EventsPollInterval = TimeSpan.FromMilliseconds(50);
    }

    /// <summary>A harness over <paramref name="service"/> (default: an engine over <see cref="Fake"/>).</summary>
    /// <param name="service">The service the invocations share.</param>
    /// <param name="connect">How an invocation connects (default: in-process to <paramref name="service"/>); e.g. to hcsd over its socket.</param>
    public CtlHarness(IComputeService? service = null, Func<HcsConnectOptions, HcsClient>? connect = null)
    {
        Service = service ?? new ComputeEngine([Fake]);
        _connect = connect ?? (_ => HcsClient.Connect(Service, "hcsctl"));
        Directory.CreateDirectory(TempDirectory);
    }

    /// <summary>A harness whose invocations reach the engine over <paramref name="transport"/>.</summary>
    public static async Task<CtlHarness> StartAsync(CtlTransport transport)
    {
        if (transport == CtlTransport.InProcess)
        {
            return new CtlHarness();
        }

        var native = transport == CtlTransport.NativeProcess;
        if (native)
        {
            _ = NativeBinaries.Hcsctl; // skips (or fails) here when it is missing
        }

        var harness = new CtlHarness(connect: HcsClient.Connect) { _native = native };
        try
        {
            harness._daemonDirectory = SearchableTempDirectory();
            var served = native ? new OpenObservingService(harness.Service, harness.OnOpened) : harness.Service;
            harness._daemon = await DaemonServer.StartAsync(served, new DaemonOptions { Socket = Path.Combine(harness._daemonDirectory, "hcsd.sock") });
            return harness;
        }
        catch
        {
            await harness.DisposeAsync();
            throw;
        }
    }

    /// <summary>A fresh directory others may traverse (as /run/hcs), so the socket's own mode decides who connects.</summary>
    public static string SearchableTempDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("hcsctl-hcsd-").FullName;
        System.IO.File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        return directory;
    }

    private readonly Func<HcsConnectOptions, HcsClient> _connect;
    private readonly Lock _openedGate = new();
    private readonly Dictionary<int, List<string>> _opened = []; // guarded by _openedGate: systems each client pid opened
    private readonly Dictionary<int, Action<string>> _subscribers = []; // guarded by _openedGate: events processes by pid
    private DaemonServer? _daemon;
    private string? _daemonDirectory;
    private bool _native;

    /// <summary>Whether invocations run as the native hcsctl process (<see cref="CtlTransport.NativeProcess"/>).</summary>
    public bool IsNativeProcess => _native;

    /// <summary>hcsd's socket (null when the invocations run in-process).</summary>
    public string? Socket => _daemon?.Socket;

    public FakeBackend Fake { get; } = new();

    public IComputeService Service { get; }

    public string TempDirectory { get; } = Path.Combine(Path.GetTempPath(), "hcsctl-tests-" + Guid.NewGuid().ToString("N")[..10]);

    /// <summary>The terminal the next invocations see (null = none, as in a pipe).</summary>
    public IHcsCtlTerminal? Terminal { get; set; }

    /// <summary>The interrupt source the next invocations see (null = none).</summary>
    public IHcsCtlInterrupts? Interrupts { get; set; }

    /// <summary>An idle fake VM document (hcstest=idle), owned by "tests".</summary>
    public static string VmDocument(string guestVerb = "idle") => FakeDocuments.Vm(guestVerb, "tests");

    /// <summary>Writes <paramref name="content"/> to a file in the temp directory; returns its path.</summary>
    public string File(string name, string content)
    {
        var path = Path.Combine(TempDirectory, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public Task<CtlResult> RunAsync(params string[] args) => RunWithInputAsync("", args);

    public Task<CtlResult> RunWithInputAsync(string stdin, params string[] args) => RunAsync(stdin, null, args);

    /// <summary>
    /// Runs one invocation. <paramref name="eventsSubscribed"/> hears each system an <c>events</c> invocation watches:
    /// in process when it subscribes; as a process when hcsd has opened the system for it (hcsd subscribes then, and a
    /// system's exit reaches a subscription made later, so a terminate after this is seen).
    /// </summary>
    public async Task<CtlResult> RunAsync(string stdin, Action<string>? eventsSubscribed, string[] args, CancellationToken cancellationToken = default)
    {
        if (_native)
        {
            if (Terminal is not null || Interrupts is not null)
            {
                throw new InvalidOperationException("the native hcsctl process has no fake terminal or interrupts");
            }

            var pid = 0;
            try
            {
                return await HcsctlProcess.RunAsync(["--socket", Socket!, .. args], stdin, started => Subscribe(pid = started, eventsSubscribed), cancellationToken);
            }
            finally
            {
                lock (_openedGate)
                {
                    _subscribers.Remove(pid);
                    _opened.Remove(pid);
                }
            }
        }

        using var output = new StringWriter { NewLine = "\n" };
        using var error = new StringWriter { NewLine = "\n" };
        var console = new HcsCtlConsole
        {
            In = new StringReader(stdin),
            Out = TextWriter.Synchronized(output),
            Error = TextWriter.Synchronized(error),
            Terminal = Terminal,
            Interrupts = Interrupts,
            EventsSubscribed = eventsSubscribed,
        };
        var line = Socket is { } socket ? ["--socket", socket, .. args] : args;
        var code = await HcsCtl.RunAsync(line, console, _connect, cancellationToken).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        return new CtlResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Skips the test when invocations run as a process: it needs what only an in-process console offers.</summary>
    public void SkipUnlessInProcess(string why)
    {
        if (_native)
        {
            Xunit.Assert.Skip($"by design: the native hcsctl process cannot {why}; the in-process and hcsd transports run this case");
        }
    }

    private void Subscribe(int pid, Action<string>? eventsSubscribed)
    {
        if (eventsSubscribed is null)
        {
            return;
        }

        string[] already;
        lock (_openedGate)
        {
            _subscribers[pid] = eventsSubscribed;
            already = _opened.TryGetValue(pid, out var ids) ? [.. ids] : [];
        }

        foreach (var id in already)
        {
            eventsSubscribed(id);
        }
    }

    private void OnOpened(int pid, string id)
    {
        Action<string>? subscriber;
        lock (_openedGate)
        {
            if (!_opened.TryGetValue(pid, out var ids))
            {
                _opened[pid] = ids = [];
            }

            ids.Add(id);
            subscriber = _subscribers.GetValueOrDefault(pid);
        }

        subscriber?.Invoke(id);
    }

    /// <summary>Runs and asserts exit code 0 and an empty stderr; returns stdout.</summary>
    public async Task<string> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Xunit.Assert.True(result.ExitCode == 0 && result.Error.Length == 0, $"hcsctl {string.Join(' ', args)}: {result}");
        return result.Out;
    }

    /// <summary>A container created (and started when <paramref name="start"/>) through hcsctl.</summary>
    public async Task ContainerAsync(string id, bool start = true)
    {
        var path = File(id + ".json", ContainerDocument);
        if (start)
        {
            await OkAsync("create", id, path, "--start");
        }
        else
        {
            await OkAsync("create", id, path);
        }
    }

    public async Task<SystemState?> StateAsync(string id)
    {
        await using var client = HcsClient.Connect(Service, "probe");
        var found = await Client.ComputeSystem.EnumerateAsync(client, new SystemQuery { Ids = [id] });
        return found.Count == 0 ? null : found[0].State;
    }

    /// <summary>The service going away: hcsd stops (when there is one), then the engine (its systems are terminated).</summary>
    public async Task StopServiceAsync()
    {
        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }

        await Service.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopServiceAsync();
        foreach (var directory in new[] { TempDirectory, _daemonDirectory })
        {
            try
            {
                if (directory is not null)
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
    }
}

/// <summary>A terminal for tests: fixed size, records raw mode and resize subscriptions.</summary>
public sealed class FakeTerminal : IHcsCtlTerminal
{
    public bool InputIsTerminal { get; init; } = true;

    public bool OutputIsTerminal { get; init; } = true;

    public bool ErrorIsTerminal { get; init; } = true;

    public (ushort Rows, ushort Columns)? Size { get; set; } = (40, 120);

    public int RawModeEntered { get; private set; }

    public int RawModeLeft { get; private set; }

    public Action? Resize { get; private set; }

    public IDisposable EnterRawMode()
    {
        RawModeEntered++;
        return new Callback(() => RawModeLeft++);
    }

    public IDisposable OnResize(Action onResize)
    {
        Resize = onResize;
        return new Callback(() => Resize = null);
    }

    private sealed class Callback(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>Interrupts for tests: <see cref="Fire"/> is a Ctrl-C.</summary>
public sealed class FakeInterrupts : IHcsCtlInterrupts
{
    private readonly List<Action> _actions = [];

    public int Listeners
    {
        get
        {
            lock (_actions)
            {
                return _actions.Count;
            }
        }
    }

    public IDisposable Register(Action onInterrupt)
    {
        lock (_actions)
        {
            _actions.Add(onInterrupt);
        }

        return new Registration(this, onInterrupt);
    }

    public void Fire()
    {
        Action[] actions;
        lock (_actions)
        {
            actions = [.. _actions];
        }

        foreach (var action in actions)
        {
            action();
        }
    }

    /// <summary>Waits until a verb listens for interrupts.</summary>
    public async Task WaitForListenerAsync()
    {
        for (var i = 0; i < 1000 && Listeners == 0; i++)
        {
            await Task.Delay(10);
        }
    }

    private sealed class Registration(FakeInterrupts owner, Action action) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._actions)
            {
                owner._actions.Remove(action);
            }
        }
    }
}
