// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using Hcs.Shim.Protocol;

namespace Hcs.Shim;

/// <summary>What an exec produced: a pid (and its console for <c>tty:true</c>), or an error code and message.</summary>
internal readonly record struct ExecResult(int Pid, ConsoleProxy? Console, string? Code, string? Error)
{
    public static ExecResult Fail(string code, string error) => new(0, null, code, error);
}

/// <summary>
/// One <c>exec</c> request: connects to the engine's stdio sockets, runs <c>runc exec -d</c> (with a console socket
/// for <c>tty:true</c>), and reads the pid file. The caller claims the pid and replies.
/// </summary>
internal sealed class ExecSession
{
    private static readonly TimeSpan s_consoleTimeout = TimeSpan.FromSeconds(5);

    private readonly MonitorOptions _options;
    private readonly int _devNull;
    private readonly Reaper _reaper;
    private readonly ExecRequest _request;
    private readonly string _log;
    private readonly string _pidFile;
    private readonly string _consolePath;

    public ExecSession(MonitorOptions options, string execDir, int devNull, Reaper reaper, ExecRequest request)
    {
        _options = options;
        _devNull = devNull;
        _reaper = reaper;
        _request = request;
        string stem = Path.Combine(execDir, request.Id.ToString(CultureInfo.InvariantCulture));
        _log = stem + ".log";
        _pidFile = stem + ".pid";
        _consolePath = stem + ".console";
    }

    public async Task<ExecResult> RunAsync()
    {
        if (_request.Spec is not { Length: > 0 } spec || !Path.IsPathRooted(spec))
        {
            return ExecResult.Fail(ShimErrorCodes.BadRequest, "exec needs an absolute 'spec' path");
        }

        if (!File.Exists(spec))
        {
            return ExecResult.Fail(ShimErrorCodes.BadRequest, $"no process spec at {spec}");
        }

        File.Delete(_log);
        File.Delete(_pidFile);
        return _request.Tty ? await RunTtyAsync(spec).ConfigureAwait(false) : await RunPlainAsync(spec).ConfigureAwait(false);
    }

    private async Task<ExecResult> RunPlainAsync(string spec)
    {
        Socket? stdin = null, stdout = null, stderr = null;
        try
        {
            stdin = Connect(_options.State, _request.Stdin, "stdin");
            stdout = Connect(_options.State, _request.Stdout, "stdout");
            stderr = Connect(_options.State, _request.Stderr, "stderr");
            string[] args =
            [
                _options.Runc, "--root", _options.RuncRoot, "--log", _log, "--log-format", "json",
                "exec", "-d", "--pid-file", _pidFile, "--process", spec, "--", _options.Id,
            ];
            int raw = await StartRuncAsync(args, Fd(stdin), Fd(stdout), Fd(stderr)).ConfigureAwait(false);
            return raw != 0 ? Failed(raw) : ReadPid(null);
        }
        catch (ExecFailure f)
        {
            return f.Result;
        }
        finally
        {
            // runc has exited (or never ran): the process holds its own copies.
            stdin?.Dispose();
            stdout?.Dispose();
            stderr?.Dispose();
        }
    }

    private async Task<ExecResult> RunTtyAsync(string spec)
    {
        Socket? stdin = null, stdout = null;
        Socket? listener = null;
        bool handedOver = false;
        try
        {
            stdin = Connect(_options.State, _request.Stdin, "stdin");
            stdout = Connect(_options.State, _request.Stdout, "stdout");
            File.Delete(_consolePath);
            // Named relative to the state directory, the monitor's and runc's working directory (StateNames).
            var consoleName = StateNames.Of(_options.State, _consolePath);
            listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(consoleName));
            listener.Listen(1);
            Task<Socket> accept = listener.AcceptAsync();
            string[] args =
            [
                _options.Runc, "--root", _options.RuncRoot, "--log", _log, "--log-format", "json",
                "exec", "-d", "-t", "--console-socket", consoleName, "--pid-file", _pidFile, "--process", spec, "--", _options.Id,
            ];
            int raw = await StartRuncAsync(args, _devNull, _devNull, _devNull).ConfigureAwait(false);
            if (raw != 0)
            {
                return Failed(raw);
            }

            var result = ReadPid(null);
            if (result.Error is not null)
            {
                return result;
            }

            using Socket connection = await accept.WaitAsync(s_consoleTimeout).ConfigureAwait(false);
            var master = ConsoleProxy.ReceiveMaster(connection, (int)s_consoleTimeout.TotalMilliseconds);
            var console = new ConsoleProxy(master, stdin, stdout);
            handedOver = true;
            if (RuncFiles.ConsoleSize(spec) is var (rows, cols) && rows > 0 && cols > 0)
            {
                _ = console.Resize(rows, cols);
            }

            return result with { Console = console };
        }
        catch (ExecFailure f)
        {
            return f.Result;
        }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException)
        {
            return ExecResult.Fail(ShimErrorCodes.Internal, "console: " + e.Message);
        }
        finally
        {
            listener?.Dispose();
            File.Delete(_consolePath);
            if (!handedOver)
            {
                stdin?.Dispose();
                stdout?.Dispose();
            }
        }
    }

    private async Task<int> StartRuncAsync(string[] args, int stdin, int stdout, int stderr)
    {
        try
        {
            return await _reaper.RunAsync(() => Spawner.Spawn(_options.Runc, args, stdin, stdout, stderr)).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new ExecFailure(ExecResult.Fail(ShimErrorCodes.ExecFailed, e.Message));
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ExecFailure(ExecResult.Fail(ShimErrorCodes.Internal, e.Message));
        }
    }

    private ExecResult Failed(int raw) =>
        ExecResult.Fail(ShimErrorCodes.ExecFailed, RuncFiles.LastRuncError(_log) ?? "runc exec: " + ProcessExit.FromWaitStatus(0, raw).Describe());

    private ExecResult ReadPid(ConsoleProxy? console)
    {
        try
        {
            if (int.TryParse(File.ReadAllText(_pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid > 0)
            {
                File.Delete(_pidFile);
                File.Delete(_log); // kept only when runc failed
                return new ExecResult(pid, console, null, null);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ExecResult.Fail(ShimErrorCodes.Internal, "runc exec: " + e.Message);
        }

        return ExecResult.Fail(ShimErrorCodes.Internal, "runc exec: no pid in " + _pidFile);
    }

    private int Fd(Socket? socket) => socket is null ? _devNull : (int)socket.SafeHandle.DangerousGetHandle();

    /// <summary>
    /// Connects (blocking: the fd becomes a process's stdio) to one of the engine's stdio sockets, by its name relative
    /// to the state directory when it is inside it (StateNames).
    /// </summary>
    private static Socket? Connect(string state, string? path, string name)
    {
        if (path is null)
        {
            return null;
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(StateNames.Of(state, path)));
            Native.MakeBlocking((int)socket.SafeHandle.DangerousGetHandle());
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new ExecFailure(ExecResult.Fail(ShimErrorCodes.BadRequest, $"{name} socket {path}: {e.Message}"));
        }
    }

    /// <summary>Carries a failure reply out of a helper.</summary>
    private sealed class ExecFailure(ExecResult result) : Exception(result.Error)
    {
        public ExecResult Result { get; } = result;
    }
}
