// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Daemon;
using Hcs.Host;
using Microsoft.Extensions.Logging;

if (args.Contains("-h") || args.Contains("--help"))
{
    Console.Out.WriteLine(DaemonCommandLine.Usage);
    return 0;
}

if (args.Contains("--version"))
{
    Console.Out.WriteLine(Hcs.Schema.HcsVersion.Describe("hcsd"));
    return 0;
}

DaemonArguments parsed;
try
{
    parsed = DaemonCommandLine.Parse(args);
}
catch (ArgumentException e)
{
    // One line saying what is wrong, then how to get the usage; never a stack trace.
    await Console.Error.WriteLineAsync($"hcsd: {e.Message}\n{DaemonCommandLine.ShortUsage}").ConfigureAwait(false);
    return DaemonCommandLine.UsageExitCode;
}

var (settings, logFormat, logLevel) = parsed;
using var logs = LoggerFactory.Create(b =>
{
    b.SetMinimumLevel(logLevel);
    b.AddFilter("Microsoft", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
    if (logFormat == "json")
    {
        b.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ");
    }
    else
    {
        b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
        });
    }
});
var log = logs.CreateLogger("hcsd");
return await Daemon.RunAsync(settings, parsed.Limits, log, logs).ConfigureAwait(false);

/// <summary>The daemon's life: build the engine, serve, stop gracefully on SIGTERM/SIGINT.</summary>
internal static partial class Daemon
{
    public static async Task<int> RunAsync(HostSettings settings, DaemonLimits limits, ILogger log, ILoggerFactory logs)
    {
        var stop = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult("SIGTERM"); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult("SIGINT"); });
        using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => c.Cancel = true);

        Hcs.Engine.ComputeEngine engine;
        DaemonServer server;
        try
        {
            engine = ServiceHost.CreateEngine(settings, null, logs.CreateLogger("hcs.engine"));
            // Re-adopt what an earlier hcsd left running, record what ended meanwhile, clean orphans: before serving.
            var report = await engine.RecoverAsync().ConfigureAwait(false);
            var summary = report.ToString();
            Log.Recovered(log, summary);
            foreach (var line in report.Describe().Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                Log.RecoveredSystem(log, line);
            }

            if (await ServiceHost.CheckStateWritableAsync(engine).ConfigureAwait(false) is { } readOnly)
            {
                // Serve anyway: queries work, and every call that needs a durable record fails with this error.
                Log.ReadOnly(log, Hcs.Schema.HResults.NameOf(readOnly.HResult), readOnly.Result.ErrorMessage ?? readOnly.Message);
            }

            server = await DaemonServer.StartAsync(engine, new DaemonOptions { Socket = settings.Socket, SocketGroup = settings.SocketGroup, Limits = limits }, logs)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or InvalidOperationException
            or Hcs.Schema.HcsException)
        {
            Log.StartFailed(log, e.Message);
            return 1;
        }

        var backends = string.Join(',', settings.Backends);
        Log.Ready(log, settings.Socket, backends, Environment.ProcessId);
        var reason = await stop.Task.ConfigureAwait(false);
        Log.Stopping(log, reason, server.SessionCount);
        await server.StopAsync().ConfigureAwait(false);
        // Systems keep running: the engine lets go of them and flushes their state; the next hcsd re-adopts them.
        await engine.DetachAsync().ConfigureAwait(false);
        await server.DisposeAsync().ConfigureAwait(false);
        Log.Stopped(log);
        return 0;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "hcsd ready on {Socket} (backends {Backends}, pid {Pid})")]
        public static partial void Ready(ILogger logger, string socket, string backends, int pid);

        [LoggerMessage(EventId = 101, Level = LogLevel.Critical, Message = "hcsd cannot start: {Reason}")]
        public static partial void StartFailed(ILogger logger, string reason);

        [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "hcsd stopping ({Signal}); {Sessions} sessions will see a service disconnect")]
        public static partial void Stopping(ILogger logger, string signal, int sessions);

        [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "recovery: {Summary}")]
        public static partial void Recovered(ILogger logger, string summary);

        [LoggerMessage(EventId = 105, Level = LogLevel.Information, Message = "recovery: {Line}")]
        public static partial void RecoveredSystem(ILogger logger, string line);

        [LoggerMessage(EventId = 106, Level = LogLevel.Error, Message = "hcsd serves read-only: its state cannot be written ({HResult}): {Reason}; queries are served, calls that need a durable record fail until it can be written")]
        public static partial void ReadOnly(ILogger logger, string hresult, string reason);

        [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "hcsd stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
