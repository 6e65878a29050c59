// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.IO.Pipelines;
using System.Net.Sockets;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Hcs.Shim.Protocol;

namespace Hcs.Backends.Runc;

internal sealed partial class RuncSystem : IBackendProcessHost
{
    private int _nextExec;

    /// <summary>
    /// Runs a process in the container: the engine listens on one Unix socket per stdio stream asked for, the monitor
    /// connects to them and hands them to <c>runc exec -d</c> as the process's fds 0/1/2 (no copy), or, for
    /// <c>EmulateConsole</c>, copies between them and the pty runc creates.
    /// </summary>
    public async Task<IBackendProcess> CreateProcessAsync(ProcessParameters parameters, IBackendProcessSink events, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.CreateProcess;
        ArgumentNullException.ThrowIfNull(parameters);
        var shim = _shim ?? throw new HcsException(HResults.HCS_E_INVALID_STATE, Label, Id);
        var spec = ProcessSpec.Build(parameters, _layout.Rootfs);
        var n = Interlocked.Increment(ref _nextExec).ToString(CultureInfo.InvariantCulture);
        var dir = Path.Combine(_layout.Directory, "exec");
        PrivateFiles.CreateDirectory(dir);
        var specPath = Path.Combine(dir, n + ".json");
        await PrivateFiles.WriteAllTextAsync(specPath, spec, cancellationToken).ConfigureAwait(false);
        var tty = parameters.EmulateConsole == true;
        using var stdin = StdioListener.Open(parameters.CreateStdInPipe == true, Path.Combine(dir, n + "-in.sock"));
        using var stdout = StdioListener.Open(parameters.CreateStdOutPipe == true, Path.Combine(dir, n + "-out.sock"));
        using var stderr = StdioListener.Open(parameters.CreateStdErrPipe == true && !tty, Path.Combine(dir, n + "-err.sock"));
        try
        {
            ExecReply reply;
            try
            {
                reply = await shim.ExecAsync(new ExecRequest(0, specPath, tty, stdin?.Path, stdout?.Path, stderr?.Path), cancellationToken).ConfigureAwait(false);
            }
            catch (ShimErrorException e)
            {
                var hr = e.Message.Contains("not found", StringComparison.Ordinal) || e.Message.Contains("no such file", StringComparison.OrdinalIgnoreCase)
                    ? HResults.ERROR_FILE_NOT_FOUND
                    : HResults.E_FAIL;
                throw new HcsException(hr, Label, Id, result: ResultError.From(hr, $"runc exec failed: {e.Message}", "runc"));
            }

            var hostPid = reply.Pid;
            var nsPid = (uint)reply.NsPid;
            var streams = await Task.WhenAll(AcceptAsync(stdin), AcceptAsync(stdout), AcceptAsync(stderr)).WaitAsync(TimeSpan.FromSeconds(10), _context.Time, cancellationToken)
                .ConfigureAwait(false);
            return new RuncProcess(shim, hostPid, nsPid, tty, streams[0], streams[1], streams[2], events);
        }
        finally
        {
            File.Delete(specPath);
        }
    }

    private static async Task<Socket?> AcceptAsync(StdioListener? listener) =>
        listener is null ? null : await listener.Socket.AcceptAsync().ConfigureAwait(false);

    /// <summary>A listening socket for one stdio stream; the file is removed when it is disposed.</summary>
    private sealed class StdioListener : IDisposable
    {
        private StdioListener(string path, Socket socket)
        {
            Path = path;
            Socket = socket;
        }

        public string Path { get; }

        public Socket Socket { get; }

        public static StdioListener? Open(bool wanted, string path)
        {
            if (!wanted)
            {
                return null;
            }

            File.Delete(path);
            // Bound through a descriptor of its directory: the runtime root may be longer than a socket address.
            return new StdioListener(path, Hcs.Linux.UnixSocketPaths.Listen(path, 1));
        }

        public void Dispose()
        {
            Socket.Dispose();
            File.Delete(Path);
        }
    }
}

/// <summary>
/// A process exec'd into a container. Its exit is reported to the engine only once the monitor reported it
/// <em>and</em> its stdout and stderr reached EOF (every byte is in the stream the client reads), so no output is lost
/// to a client that stops reading at <c>ProcessExited</c>.
/// </summary>
internal sealed class RuncProcess : IBackendProcess
{
    private const int SigKill = 9;
    private readonly ShimClient _shim;
    private readonly int _hostPid;
    private readonly bool _tty;
    private readonly Socket? _stdin;
    private readonly IBackendProcessSink _sink;

    public RuncProcess(ShimClient shim, int hostPid, uint nsPid, bool tty, Socket? stdin, Socket? stdout, Socket? stderr, IBackendProcessSink sink)
    {
        _shim = shim;
        _hostPid = hostPid;
        _tty = tty;
        _stdin = stdin;
        _sink = sink;
        ProcessId = nsPid;
        var output = stdout is null ? null : new OutputPump(stdout);
        var errors = stderr is null ? null : new OutputPump(stderr);
        Stdio = new ProcessStdio(stdin is null ? null : new NetworkStream(stdin, FileAccess.Write, ownsSocket: true), output?.Stream, errors?.Stream);
        _ = ReportExitAsync(output?.Drained ?? Task.CompletedTask, errors?.Drained ?? Task.CompletedTask);
    }

    public uint ProcessId { get; }

    public ProcessStdio Stdio { get; }

    private async Task ReportExitAsync(Task stdoutDrained, Task stderrDrained)
    {
        var exit = await _shim.WaitExitAsync(_hostPid).ConfigureAwait(false);
        await Task.WhenAll(stdoutDrained, stderrDrained).ConfigureAwait(false);
        _sink.Exited(exit.Status);
    }

    public Task SignalAsync(int signal, CancellationToken cancellationToken) => SendAsync(signal, OperationLabels.SignalProcess, cancellationToken);

    public Task KillAsync(CancellationToken cancellationToken) => SendAsync(SigKill, OperationLabels.TerminateProcess, cancellationToken);

    private async Task SendAsync(int signal, string label, CancellationToken cancellationToken)
    {
        try
        {
            await _shim.SignalAsync(_hostPid, signal, cancellationToken).ConfigureAwait(false);
        }
        catch (ShimErrorException e) when (e.Code is ShimErrorCodes.Exited or ShimErrorCodes.NotFound or "closed")
        {
            throw new HcsException(HResults.HCS_E_PROCESS_ALREADY_STOPPED, label, processId: ProcessId);
        }
    }

    public Task CloseStdInAsync(CancellationToken cancellationToken)
    {
        try
        {
            _stdin?.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The reader is gone or the stream was closed: it has its EOF.
        }

        return Task.CompletedTask;
    }

    public async Task ResizeConsoleAsync(ushort height, ushort width, CancellationToken cancellationToken)
    {
        if (!_tty)
        {
            throw HcsException.InvalidJson("$.ConsoleSize", "the process has no console (EmulateConsole was not set)");
        }

        try
        {
            await _shim.ResizeAsync(_hostPid, height, width, cancellationToken).ConfigureAwait(false);
        }
        catch (ShimErrorException e) when (e.Code is "exited" or "not-found" or "closed")
        {
            throw new HcsException(HResults.HCS_E_PROCESS_ALREADY_STOPPED, OperationLabels.ModifyProcess, processId: ProcessId);
        }
    }

    public ValueTask DisposeAsync()
    {
        // The output streams belong to whoever holds them; stdin is closed so the process is not left waiting on us.
        _stdin?.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Copies one output socket of a process into a bounded in-memory pipe, whose reader is the stream a client gets.
/// <see cref="Drained"/> completes when the process side closed the socket and everything has been copied, so the
/// exit can be reported then without losing output. The pipe applies back-pressure (1 MiB): a process whose output
/// nobody reads blocks on write, as it would on a full pipe; a reader that disposes its stream stops the copy (the
/// process then gets EPIPE).
/// </summary>
internal sealed class OutputPump
{
    private const int Chunk = 64 * 1024;
    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 512 * 1024, useSynchronizationContext: false));

    public OutputPump(Socket socket)
    {
        Stream = _pipe.Reader.AsStream();
        Drained = PumpAsync(socket);
    }

    public Stream Stream { get; }

    public Task Drained { get; }

    private async Task PumpAsync(Socket socket)
    {
        var writer = _pipe.Writer;
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(writer.GetMemory(Chunk), SocketFlags.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                if ((await writer.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    break; // The reader is gone.
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The connection broke: what arrived is delivered, then EOF.
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
            socket.Dispose();
        }
    }
}
