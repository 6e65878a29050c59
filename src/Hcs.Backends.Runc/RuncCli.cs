// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Runs a host tool (runc, mount) with an argument list, never through a shell, and turns a failure into an
/// <see cref="HcsException"/> carrying the tool's own message.
/// </summary>
internal static class HostCommand
{
    /// <summary>The result of one run.</summary>
    public sealed record Result(int ExitCode, string StandardOutput, string StandardError)
    {
        /// <summary>The tool's message: stderr, else stdout, trimmed (runc prefixes <c>ERRO[0000]</c>-style noise we keep).</summary>
        public string Message => (StandardError.Length > 0 ? StandardError : StandardOutput).Trim();
    }

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> and waits for it; stdin is empty.</summary>
    public static async Task<Result> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
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
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            TryKill(process);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return new Result(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    /// <summary>Runs the tool and throws <c>hr</c> with the tool's message if it fails.</summary>
    public static async Task<Result> RunCheckedAsync(string file, IEnumerable<string> arguments, string operation, string? systemId,
        CancellationToken cancellationToken, int hr = HResults.E_FAIL)
    {
        var list = arguments.ToList();
        var result = await RunAsync(file, list, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new HcsException(hr, operation, systemId,
                result: ResultError.From(hr, $"{Path.GetFileName(file)} {string.Join(' ', list.Take(3))}… failed ({result.ExitCode}): {result.Message}", "runc"));
        }

        return result;
    }

    private static void TryKill(Process process)
    {
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
