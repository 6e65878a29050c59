// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text;

namespace Hcs.Linux;

/// <summary>
/// Runs a host tool (runc, mount, qemu for a probe) to completion: an argument list, never a shell; standard input
/// empty; standard output and error captured, each bounded (<see cref="MaxCapturedChars"/>: what a tool prints past
/// it is read and dropped, so it never blocks on a full pipe nor grows our memory). Cancelling kills the tool and
/// waits for it.
/// </summary>
public static class HostCommand
{
    /// <summary>Most characters kept of each of standard output and standard error (1 Mi).</summary>
    public const int MaxCapturedChars = 1 << 20;

    /// <summary>The result of one run.</summary>
    /// <param name="ExitCode">The tool's exit status.</param>
    /// <param name="StandardOutput">What it wrote to standard output (at most <see cref="MaxCapturedChars"/>).</param>
    /// <param name="StandardError">What it wrote to standard error (at most <see cref="MaxCapturedChars"/>).</param>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        /// <summary>The tool's message: standard error, else standard output, trimmed.</summary>
        public string Message => (StandardError.Length > 0 ? StandardError : StandardOutput).Trim();
    }

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="arguments"/> and waits for it to exit. Cancelling kills it,
    /// waits for it and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <exception cref="System.ComponentModel.Win32Exception">The tool cannot be started (e.g. it does not exist).</exception>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(file);
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = ReadBoundedAsync(process.StandardOutput);
        var stderr = ReadBoundedAsync(process.StandardError);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Reads <paramref name="reader"/> to its end, keeping the first <see cref="MaxCapturedChars"/> characters.</summary>
    internal static async Task<string> ReadBoundedAsync(TextReader reader, int max = MaxCapturedChars)
    {
        var kept = new StringBuilder();
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
        {
            var room = max - kept.Length;
            if (room > 0)
            {
                kept.Append(buffer, 0, Math.Min(room, read));
            }
        }

        return kept.ToString();
    }
}
