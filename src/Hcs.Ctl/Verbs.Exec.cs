// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Client;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Ctl;

internal static partial class Verbs
{
    private static async Task<int> ExecAsync(VerbContext context)
    {
        var id = context.Args.Positionals[0];
        var tty = context.Args.Has("tty");
        var interactive = context.Args.Has("interactive");
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in context.Args.Values("env"))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"--env: '{pair}' is not K=V");
            }

            environment[pair[..eq]] = pair[(eq + 1)..];
        }

        var console = context.Console;
        var terminal = console.Terminal;
        var size = tty ? terminal?.Size : null;
        var parameters = new ProcessParameters
        {
            CommandArgs = [.. context.Args.Command],
            Environment = environment.Count > 0 ? environment : null,
            WorkingDirectory = context.Args.Value("cwd"),
            User = context.Args.Value("user"),
            EmulateConsole = tty ? true : null,
            ConsoleSize = size is { } s ? [s.Rows, s.Columns] : null,
            CreateStdInPipe = interactive,
            CreateStdOutPipe = true,
            CreateStdErrPipe = !tty,
        };

        try
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            var process = await system.CreateProcessAsync(parameters, context.Cancellation).ConfigureAwait(false);
            await using var processScope = process.ConfigureAwait(false);
            await console.Out.FlushAsync(context.Cancellation).ConfigureAwait(false);

            // With -t and -i the keys go to the process's console as typed (Ctrl-C included); otherwise Ctrl-C is ours
            // to forward as SIGINT.
            using var raw = tty && interactive && terminal?.InputIsTerminal == true ? terminal.EnterRawMode() : null;
            using var interrupts = console.Interrupts?.Register(() => Observe(process.SignalAsync(ProcessSignal.CtrlC)));
            using var resize = tty ? terminal?.OnResize(() =>
            {
                if (terminal.Size is { } now)
                {
                    Observe(process.ResizeConsoleAsync(now.Rows, now.Columns));
                }
            }) : null;

            var stdout = PumpAsync(process.StandardOutput, console.RawOut, console.Out, context.Cancellation);
            var stderr = PumpAsync(process.StandardError, console.RawError, console.Error, context.Cancellation);
            using var stopInput = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
            var stdin = interactive ? ForwardInputAsync(process, console, stopInput.Token) : Task.CompletedTask;

            var status = await process.WaitForExitAsync(context.Cancellation).ConfigureAwait(false);
            await Task.WhenAll(stdout, stderr).ConfigureAwait(false);

            // Standard input may still be waiting for a key that will never matter: stop it (a console read may not end).
            await stopInput.CancelAsync().ConfigureAwait(false);
            Observe(stdin);
            if (status.LastWaitResult < 0)
            {
                throw new HcsException(status.LastWaitResult, OperationLabels.WaitForProcess, id, status.ProcessId);
            }

            return status.ExitCode <= 255 ? (int)status.ExitCode : 255;
        }
        catch (Exception e) when (e is not UsageException)
        {
            var code = context.Report(id, e);
            return code == HcsCtlExitCodes.Interrupted ? code : HcsCtlExitCodes.ExecFailed;
        }
    }

    /// <summary>Copies a process's output to the raw stream if there is one, else decodes UTF-8 into the text writer.</summary>
    private static async Task PumpAsync(Stream? from, Stream? raw, TextWriter text, CancellationToken cancellationToken)
    {
        if (from is null)
        {
            return;
        }

        var buffer = new byte[64 * 1024];
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (raw is not null)
            {
                await raw.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await raw.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var count = decoder.GetChars(buffer, 0, read, chars, 0, flush: false);
                await text.WriteAsync(chars.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                await text.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (raw is null)
        {
            var count = decoder.GetChars(buffer, 0, 0, chars, 0, flush: true);
            await text.WriteAsync(chars.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
            await text.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Forwards standard input to the process until end of file, then closes the process's stdin.</summary>
    private static async Task ForwardInputAsync(ComputeProcess process, HcsCtlConsole console, CancellationToken cancellationToken)
    {
        var to = process.StandardInput!;
        try
        {
            if (console.RawIn is { } raw)
            {
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = await raw.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    await to.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                var chars = new char[4096];
                var bytes = new byte[Encoding.UTF8.GetMaxByteCount(chars.Length)];
                var encoder = Encoding.UTF8.GetEncoder();
                int read;
                while ((read = await console.In.ReadAsync(chars, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    var count = encoder.GetBytes(chars, 0, read, bytes, 0, flush: false);
                    await to.WriteAsync(bytes.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
                    await to.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await process.CloseStandardInputAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or HcsException)
        {
            // The process exited, or stopped reading: its input no longer matters.
        }
    }
}
