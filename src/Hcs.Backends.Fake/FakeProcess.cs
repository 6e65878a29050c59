// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Fake;

/// <summary>
/// A fake process running a tiny subset of <c>sh</c>, so the same process tests run here and in a real container:
/// statements separated by <c>;</c>, each one of <c>echo WORDS</c> (append <c>&gt;&amp;2</c> for stderr),
/// <c>cat</c> (stdin to stdout until EOF), <c>sleep SECONDS</c>, <c>exit N</c>, <c>true</c>, <c>false</c>.
/// A command line may be wrapped in <c>sh -c '...'</c>. Unknown commands exit 127. Terminating signals end it with
/// 128 + signal. Stdio are in-memory pipes; the exit is reported after stdout and stderr are complete.
/// </summary>
public sealed class FakeProcess : IBackendProcess
{
    private static int s_nextPid = 100;
    private readonly Pipe? _stdin;
    private readonly Pipe? _stdout;
    private readonly Pipe? _stderr;
    private readonly CancellationTokenSource _killed = new();
    private readonly IBackendProcessSink _sink;
    private readonly bool _console;
    private int _signal;

    internal FakeProcess(ProcessParameters parameters, IBackendProcessSink sink)
    {
        _sink = sink;
        ProcessId = (uint)Interlocked.Increment(ref s_nextPid);
        _console = parameters.EmulateConsole == true;
        _stdin = parameters.CreateStdInPipe == true ? new Pipe() : null;
        _stdout = parameters.CreateStdOutPipe == true ? new Pipe() : null;
        _stderr = parameters.CreateStdErrPipe == true && !_console ? new Pipe() : null;
        Stdio = new ProcessStdio(_stdin?.Writer.AsStream(), _stdout?.Reader.AsStream(), _stderr?.Reader.AsStream());
        Script = ToScript(parameters);
        if (parameters.ConsoleSize is [var height, var width])
        {
            ConsoleSize = (height, width);
        }
    }

    /// <inheritdoc />
    public uint ProcessId { get; }

    /// <inheritdoc />
    public ProcessStdio Stdio { get; }

    /// <summary>The script the process runs.</summary>
    public string Script { get; }

    /// <summary>The console size last set (height, width).</summary>
    public (ushort Height, ushort Width)? ConsoleSize { get; private set; }

    /// <summary>Signals received, in order.</summary>
    public List<int> Signals { get; } = [];

    internal void Start() => _ = RunAsync();

    /// <inheritdoc />
    public Task SignalAsync(int signal, CancellationToken cancellationToken)
    {
        lock (Signals)
        {
            Signals.Add(signal);
        }

        if (signal is 1 or 2 or 3 or 9 or 15)
        {
            Kill(signal);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task KillAsync(CancellationToken cancellationToken)
    {
        Kill(9);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task CloseStdInAsync(CancellationToken cancellationToken)
    {
        _stdin?.Writer.Complete();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task ResizeConsoleAsync(ushort height, ushort width, CancellationToken cancellationToken)
    {
        if (!_console)
        {
            throw HcsException.InvalidJson("$.ConsoleSize", "the process has no console (EmulateConsole was not set)");
        }

        ConsoleSize = (height, width);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _killed.Dispose();
        return ValueTask.CompletedTask;
    }

    internal void Kill(int signal)
    {
        if (Interlocked.CompareExchange(ref _signal, signal, 0) == 0)
        {
            try
            {
                _killed.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Already exited and released.
            }
        }
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        int code;
        try
        {
            code = await RunScriptAsync(_killed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            code = 128 + Volatile.Read(ref _signal);
        }

        await CompleteAsync(_stdout).ConfigureAwait(false);
        await CompleteAsync(_stderr).ConfigureAwait(false);
        _sink.Exited(code);
    }

    private static async ValueTask CompleteAsync(Pipe? pipe)
    {
        if (pipe is not null)
        {
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
    }

    private async Task<int> RunScriptAsync(CancellationToken cancellationToken)
    {
        var status = 0;
        foreach (var raw in Script.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var words = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (words[0])
            {
                case "echo":
                    var toStderr = words[^1] == ">&2";
                    var text = string.Join(' ', words[1..(toStderr ? ^1 : ^0)]) + "\n";
                    await WriteAsync(toStderr && !_console ? _stderr : _stdout, text, cancellationToken).ConfigureAwait(false);
                    status = 0;
                    break;
                case "cat":
                    if (_stdin is not null)
                    {
                        await CopyAsync(_stdin.Reader, _stdout, cancellationToken).ConfigureAwait(false);
                    }

                    status = 0;
                    break;
                case "sleep":
                    await Task.Delay(TimeSpan.FromSeconds(double.Parse(words[1], CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
                    status = 0;
                    break;
                case "exit":
                    return words.Length > 1 ? int.Parse(words[1], CultureInfo.InvariantCulture) & 0xFF : status;
                case "true":
                    status = 0;
                    break;
                case "false":
                    status = 1;
                    break;
                default:
                    await WriteAsync(_console ? _stdout : _stderr, $"sh: {words[0]}: not found\n", cancellationToken).ConfigureAwait(false);
                    status = 127;
                    break;
            }
        }

        return status;
    }

    private static async Task WriteAsync(Pipe? pipe, string text, CancellationToken cancellationToken)
    {
        if (pipe is not null)
        {
            await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task CopyAsync(PipeReader from, Pipe? to, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await from.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in read.Buffer)
            {
                if (to is not null)
                {
                    await to.Writer.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }
            }

            from.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    private static string ToScript(ProcessParameters parameters)
    {
        if (parameters.CommandArgs is { Count: > 0 } args)
        {
            return args.Count >= 3 && args[0] is "sh" or "/bin/sh" && args[1] == "-c" ? args[2] : string.Join(' ', args);
        }

        var line = parameters.CommandLine?.Trim() ?? "";
        foreach (var prefix in (string[])["sh -c ", "/bin/sh -c "])
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..].Trim().Trim('\'', '"');
            }
        }

        return line;
    }
}
