// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Ctl;

/// <summary>Everything a verb runs with: its parsed arguments, the console, the client and the interrupt token.</summary>
internal sealed class VerbContext
{
    public required Verb Verb { get; init; }

    public required ParsedArgs Args { get; init; }

    public required HcsCtlConsole Console { get; init; }

    /// <summary>The connection; null only for verbs that do not need the service.</summary>
    public HcsClient? Client { get; init; }

    /// <summary>True when the service is an engine inside this hcsctl process (<c>--embedded</c>).</summary>
    public bool Embedded { get; init; }

    /// <summary>Cancelled on an interrupt (except for verbs that handle interrupts themselves) or by the caller.</summary>
    public CancellationToken Cancellation { get; init; }

    public IComputeSession Session => (Client ?? throw new InvalidOperationException("this verb does not use the service")).Session;

    public TextWriter Out => Console.Out;

    public TextWriter Error => Console.Error;

    /// <summary>Reads a document from a file, or from standard input when <paramref name="path"/> is <c>-</c>.</summary>
    public async Task<string> ReadDocumentAsync(string path)
    {
        if (path == "-")
        {
            return await Console.In.ReadToEndAsync(Cancellation).ConfigureAwait(false);
        }

        try
        {
            return await File.ReadAllTextAsync(path, Cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LocalException($"cannot read {path}: {e.Message}", e);
        }
    }

    /// <summary>Writes the one-line error for <paramref name="subject"/> (a system id, or null) and returns the exit code it calls for.</summary>
    public int Report(string? subject, Exception exception, string? note = null)
    {
        if (IsInterrupt(exception))
        {
            Error.WriteLine(ErrorLines.Format(Verb.Name, subject, "interrupted"));
            return HcsCtlExitCodes.Interrupted;
        }

        if (Embedded && exception is HcsException { HResult: HResults.HCS_E_SYSTEM_NOT_FOUND })
        {
            note ??= " (--embedded: this hcsctl's own engine has only the systems it created itself)";
        }
        else if (!Embedded && exception is HcsException { HResult: HResults.HCS_E_SERVICE_DISCONNECT })
        {
            note ??= ServiceHint;
        }

        Error.WriteLine(ErrorLines.Format(Verb.Name, subject, exception, note));
        return ErrorLines.ExitCode(exception);
    }

    /// <summary>Appended to a service-disconnect error when hcsctl was asked to use hcsd.</summary>
    public const string ServiceHint = " (is hcsd running? --embedded runs an engine inside hcsctl instead)";

    /// <summary>True when <paramref name="exception"/> is the result of an interrupt rather than a failure.</summary>
    public bool IsInterrupt(Exception exception) =>
        Cancellation.IsCancellationRequested
        && exception is OperationCanceledException or HcsException { HResult: HResults.ERROR_CANCELLED or HResults.HCS_E_OPERATION_ALREADY_CANCELLED };

    /// <summary>
    /// Runs <paramref name="action"/> for every id, reporting each failure on its own line and going on with the next
    /// (an interrupt stops the loop). Returns the exit code of the worst failure, or 0.
    /// </summary>
    public async Task<int> ForEachIdAsync(IEnumerable<string> ids, Func<string, Task> action)
    {
        var code = HcsCtlExitCodes.Success;
        foreach (var id in ids)
        {
            try
            {
                await action(id).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not UsageException)
            {
                var failed = Report(id, e);
                code = code == HcsCtlExitCodes.Success ? failed : Math.Max(code, failed);
                if (failed == HcsCtlExitCodes.Interrupted || failed == HcsCtlExitCodes.ServiceUnavailable)
                {
                    break;
                }
            }
        }

        return code;
    }

    /// <summary>Awaits <paramref name="work"/> with a spinner labelled <paramref name="label"/> on a terminal's stderr.</summary>
    public async Task ProgressAsync(string label, Task work)
    {
        await using (Spinner.Start(Console, label).ConfigureAwait(false))
        {
            await work.ConfigureAwait(false);
        }
    }

    /// <summary>Awaits <paramref name="work"/> with a spinner; returns its result.</summary>
    public async Task<T> ProgressAsync<T>(string label, Task<T> work)
    {
        await using (Spinner.Start(Console, label).ConfigureAwait(false))
        {
            return await work.ConfigureAwait(false);
        }
    }

    /// <summary>Writes a JSON document to stdout, indented.</summary>
    public Task WriteJsonAsync(string json) => Out.WriteLineAsync(JsonText.Indent(json).AsMemory(), Cancellation);
}

/// <summary>A local failure (a file that cannot be read, a user that does not exist): reported with its message, exit code 1.</summary>
internal sealed class LocalException(string message, Exception? inner = null) : Exception(message, inner);
