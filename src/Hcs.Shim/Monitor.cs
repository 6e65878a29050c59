// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.IO.Pipes;
using System.Net.Sockets;
using Hcs.Shim.Protocol;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Shim;

/// <summary>The monitor's command line.</summary>
internal sealed record MonitorOptions(string Id, string Bundle, string Runc, string RuncRoot, string State);

/// <summary>
/// <c>hcs-shim monitor</c>: runs <c>runc create</c> as a child subreaper, reports readiness on stdout, then serves the
/// control socket (exec, signal, resize, ping) and reports every exit, until the init has exited and every child has
/// been reaped (docs/shim-protocol.md).
/// </summary>
internal sealed class Monitor : IDisposable
{
    private static readonly TimeSpan s_drainTimeout = TimeSpan.FromSeconds(5);

    private readonly MonitorOptions _options;
    private readonly Reaper _reaper;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, ConsoleProxy> _consoles = [];
    private readonly List<Task> _consoleOutputs = [];
    private readonly string _socketPath;
    private readonly string _exitDir;
    private readonly string _execDir;
    private ControlConnection? _current;
    private SafeFileHandle? _devNull;
    private int _initPid;
    private volatile bool _initReady;

    public Monitor(MonitorOptions options)
    {
        _options = options;
        _reaper = new Reaper(ReportExit);
        _socketPath = Path.Combine(options.State, ShimProtocol.SocketName);
        _exitDir = Path.Combine(options.State, ShimProtocol.ExitDirectoryName);
        _execDir = Path.Combine(options.State, "exec");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _devNull?.Dispose();
    }

    private int DevNull => (int)_devNull!.DangerousGetHandle();

    public async Task<int> RunAsync()
    {
        if (Native.setsid() < 0)
        {
            Native.Log($"setsid: errno {Native.Errno}");
        }

        if (Native.prctl(Native.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        {
            Native.Log($"prctl(PR_SET_CHILD_SUBREAPER): errno {Native.Errno}");
        }

        Native.Ignore(Native.SIGPIPE);
        Native.Ignore(Native.SIGHUP);
        Native.Ignore(Native.SIGINT);

        Socket listener;
        try
        {
            // The state directory is the working directory: its sockets are bound and reached by names relative to it,
            // which fit in a socket address however long the runtime root is (StateNames).
            Directory.CreateDirectory(_options.State);
            Directory.SetCurrentDirectory(_options.State);
            _devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            Directory.CreateDirectory(_exitDir);
            Directory.CreateDirectory(_execDir);
            listener = Listen(_socketPath, StateNames.Of(_options.State, _socketPath));
            _ = Native.chmod(_socketPath, 0x180); // 0600
        }
        catch (Exception e) when (e is IOException or SocketException or UnauthorizedAccessException)
        {
            return NotReady("hcs-shim: " + e.Message);
        }

        _reaper.Start();
        string? failure = await CreateAsync().ConfigureAwait(false);
        if (failure is not null)
        {
            listener.Dispose();
            File.Delete(_socketPath);
            return NotReady(failure);
        }

        Native.WriteAll(1, ShimCodec.Encode(new MonitorStarted(true, _initPid)));
        _ = Native.dup2(DevNull, 1);

        Task accepting = AcceptLoopAsync(listener);
        await _reaper.Finished.ConfigureAwait(false);

        listener.Dispose();
        await accepting.ConfigureAwait(false);
        Task[] outputs;
        lock (_lock)
        {
            outputs = [.. _consoleOutputs];
        }

        try
        {
            await Task.WhenAll(outputs).WaitAsync(s_drainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Native.Log("a pty did not close after its process ended");
        }

        ControlConnection? last;
        lock (_lock)
        {
            last = _current;
            _current = null;
        }

        if (last is not null)
        {
            await last.CloseAsync(s_drainTimeout).ConfigureAwait(false);
        }

        File.Delete(_socketPath);
        return 0;
    }

    private static int NotReady(string error)
    {
        Native.WriteAll(1, ShimCodec.Encode(new MonitorStarted(false, Error: error)));
        return 1;
    }

    private static Socket Listen(string path, string name)
    {
        File.Delete(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(name));
            socket.Listen(16);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Runs <c>runc create</c>; null on success (the init is claimed), else the error to report.</summary>
    private async Task<string?> CreateAsync()
    {
        string log = Path.Combine(_options.State, "runc-create.log");
        string pidFile = Path.Combine(_options.State, "init.pid");
        File.Delete(pidFile);
        // runc appends to its log, which it would create with the umask's mode: it is made 0600 first.
        new FileStream(log, PrivateFile(FileMode.Append)).Dispose();
        // The init's stdout is a pipe to us: it writes "ready" once it handles SIGTERM (docs/shim-protocol.md).
        var readyPipe = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        int readyFd = (int)readyPipe.ClientSafePipeHandle.DangerousGetHandle();
        string[] args =
        [
            _options.Runc, "--root", _options.RuncRoot, "--log", log, "--log-format", "json",
            "create", "--bundle", _options.Bundle, "--pid-file", pidFile, "--", _options.Id,
        ];
        int raw;
        try
        {
            raw = await _reaper.RunAsync(() => Spawner.Spawn(_options.Runc, args, DevNull, readyFd, DevNull)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            await readyPipe.DisposeAsync().ConfigureAwait(false);
            return e.Message;
        }

        readyPipe.DisposeLocalCopyOfClientHandle(); // only the init holds the write end now

        if (raw != 0)
        {
            await readyPipe.DisposeAsync().ConfigureAwait(false);
            return RuncFiles.LastRuncError(log) ?? "runc create: " + ProcessExit.FromWaitStatus(0, raw).Describe();
        }

        if (!TryReadPid(pidFile, out int pid))
        {
            await readyPipe.DisposeAsync().ConfigureAwait(false);
            return "runc create: no pid in " + pidFile;
        }

        _initPid = pid;
        _reaper.Claim(pid, Reaper.ReadNsPid(pid), isInit: true, _ => { });
        _ = WatchInitReadyAsync(readyPipe);
        return null;
    }

    /// <summary>
    /// Reads the init's "ready" line (it has installed its SIGTERM handler: a shutdown request is no longer lost), then
    /// reports it to the current client and remembers it for <c>ping</c>. EOF without it: the init ended first.
    /// </summary>
    private async Task WatchInitReadyAsync(AnonymousPipeServerStream pipe)
    {
        byte[] buffer = new byte[64];
        int total = 0;
        try
        {
            int n;
            while (total < buffer.Length && (n = await pipe.ReadAsync(buffer.AsMemory(total)).ConfigureAwait(false)) > 0)
            {
                total += n;
                if (Array.IndexOf(buffer, (byte)'\n', 0, total) >= 0)
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
            // The init ended: its exit is reported by the reaper.
        }
        finally
        {
            await pipe.DisposeAsync().ConfigureAwait(false);
        }

        if (buffer.AsSpan(0, total).StartsWith("ready\n"u8))
        {
            lock (_lock)
            {
                _initReady = true;
                _current?.Send(ShimCodec.Encode(new InitReadyEvent(_initPid)));
            }
        }
    }

    private static bool TryReadPid(string path, out int pid)
    {
        pid = 0;
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out pid) && pid > 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Options to open a file the monitor writes for its container: created 0600 (never wider, not even for a moment).</summary>
    private static FileStreamOptions PrivateFile(FileMode mode) => new()
    {
        Mode = mode,
        Access = FileAccess.Write,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    };

    /// <summary>Exit record (temporary file + rename), then the event to the current client.</summary>
    private void ReportExit(Tracked t)
    {
        // The record is the event's line: one definition of an exit (docs/shim-protocol.md).
        byte[] line = ShimCodec.Encode(t.Exit! with { NsPid = t.NsPid, Time = t.Time });
        string path = ProcessExit.RecordPath(_options.State, t.Pid);
        try
        {
            using (var record = new FileStream(path + ".tmp", PrivateFile(FileMode.Create)))
            {
                record.Write(line);
            }

            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Native.Log($"exit record {path}: {e.Message}");
        }

        lock (_lock)
        {
            _ = _consoles.Remove(t.Pid);
            _current?.Send(line);
        }
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var connection = new ControlConnection(socket);
            ControlConnection? old;
            lock (_lock)
            {
                old = _current;
                _current = connection;
            }

            old?.Abort();
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(ControlConnection connection)
    {
        await connection.ReadLinesAsync(line => Handle(connection, line)).ConfigureAwait(false);
        lock (_lock)
        {
            if (_current == connection)
            {
                _current = null;
            }
        }

        connection.Abort();
    }

    private void Handle(ControlConnection connection, ReadOnlyMemory<byte> line)
    {
        var request = ShimCodec.DecodeRequest(line.Span, out var invalid);
        if (!connection.Greeted && request is not HelloRequest)
        {
            // A client that does not say its version first (one that predates it) may misread every reply.
            connection.Send(ShimCodec.Encode(new ErrorReply(request?.Id ?? invalid!.Id,
                $"the first request must be hello: this monitor speaks shim protocol version {ShimProtocol.ProtocolVersion}", ShimErrorCodes.VersionMismatch)
            { Version = ShimProtocol.ProtocolVersion }));
            _ = connection.CloseAsync(s_drainTimeout);
            return;
        }

        if (request is null)
        {
            connection.Send(ShimCodec.Encode(invalid!));
            return;
        }

        if (request is HelloRequest hello)
        {
            var answer = ShimProtocol.Answer(hello, _initPid, _initReady);
            connection.Send(ShimCodec.Encode(answer));
            if (answer is HelloReply)
            {
                connection.Greeted = true;
            }
            else
            {
                Native.Log($"control socket: {((ErrorReply)answer).Error}; closing the connection");
                _ = connection.CloseAsync(s_drainTimeout);
            }

            return;
        }

        switch (request)
        {
            case SignalRequest signal:
                connection.Send(ShimCodec.Encode(Signal(signal)));
                break;
            case ResizeRequest resize:
                connection.Send(ShimCodec.Encode(Resize(resize)));
                break;
            case ExecRequest exec:
                _ = Task.Run(() => ExecAsync(connection, exec)); // connecting and spawning block: not on the reader
                break;
            default:
                connection.Send(ShimCodec.Encode(new ErrorReply(request.Id, $"unknown request {request.GetType().Name}", ShimErrorCodes.BadRequest)));
                break;
        }
    }

    private ShimReply Signal(SignalRequest request)
    {
        if (request.Pid <= 0 || request.Signal is <= 0 or > 64)
        {
            return new ErrorReply(request.Id, "signal needs a pid > 0 and a signal 1..64", ShimErrorCodes.BadRequest);
        }

        return _reaper.Signal(request.Pid, request.Signal, out int errno) switch
        {
            SignalOutcome.Sent => new OkReply(request.Id),
            SignalOutcome.NotFound => new ErrorReply(request.Id, $"no process {request.Pid} was started by this shim", ShimErrorCodes.NotFound),
            SignalOutcome.Exited => new ErrorReply(request.Id, $"process {request.Pid} has exited", ShimErrorCodes.Exited),
            _ => new ErrorReply(request.Id, $"kill({request.Pid}, {request.Signal}): errno {errno}", ShimErrorCodes.Internal),
        };
    }

    private ShimReply Resize(ResizeRequest request)
    {
        if (request.Rows is <= 0 or > ushort.MaxValue || request.Cols is <= 0 or > ushort.MaxValue)
        {
            return new ErrorReply(request.Id, "resize needs rows and cols in 1..65535", ShimErrorCodes.BadRequest);
        }

        ConsoleProxy? console;
        lock (_lock)
        {
            _ = _consoles.TryGetValue(request.Pid, out console);
        }

        return console is not null && console.Resize((ushort)request.Rows, (ushort)request.Cols)
            ? new OkReply(request.Id)
            : new ErrorReply(request.Id, $"process {request.Pid} has no open console", ShimErrorCodes.NotFound);
    }

    private async Task ExecAsync(ControlConnection connection, ExecRequest request)
    {
        try
        {
            var session = new ExecSession(_options, _execDir, DevNull, _reaper, request);
            var result = await session.RunAsync().ConfigureAwait(false);
            if (result.Error is { } error)
            {
                connection.Send(ShimCodec.Encode(new ErrorReply(request.Id, error, result.Code!)));
                return;
            }

            if (result.Console is { } console)
            {
                lock (_lock)
                {
                    _consoles[result.Pid] = console;
                    _ = _consoleOutputs.RemoveAll(t => t.IsCompleted);
                    _consoleOutputs.Add(console.OutputDone);
                }

                console.Start();
            }

            _reaper.Claim(result.Pid, Reaper.ReadNsPid(result.Pid), isInit: false, nsPid => connection.Send(ShimCodec.Encode(new ExecReply(request.Id, result.Pid, nsPid))));
        }
        catch (Exception e)
        {
            Native.Log($"exec {request.Id}: {e}");
            connection.Send(ShimCodec.Encode(new ErrorReply(request.Id, e.Message, ShimErrorCodes.Internal)));
        }
    }
}
