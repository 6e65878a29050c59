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

        var harness = new CtlHarness(connect: HcsClient.Connect);
        try
        {
            harness._daemonDirectory = SearchableTempDirectory();
            harness._daemon = await DaemonServer.StartAsync(harness.Service, new DaemonOptions { Socket = Path.Combine(harness._daemonDirectory, "hcsd.sock") });
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
    private DaemonServer? _daemon;
    private string? _daemonDirectory;

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

    public async Task<CtlResult> RunAsync(string stdin, Action<string>? eventsSubscribed, string[] args, CancellationToken cancellationToken = default)
    {
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
