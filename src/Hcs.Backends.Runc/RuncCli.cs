// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>How the runc backend runs a host tool (runc, mount) that must succeed: <see cref="HostCommand"/>, and a failure as an <see cref="HcsException"/>.</summary>
internal static class RuncCli
{
    /// <summary>Runs the tool and throws <c>hr</c> with the tool's own message if it fails.</summary>
    public static async Task<HostCommand.Result> RunCheckedAsync(string file, IEnumerable<string> arguments, string operation, string? systemId,
        CancellationToken cancellationToken, int hr = HResults.E_FAIL)
    {
        var list = arguments.ToList();
        var result = await HostCommand.RunAsync(file, list, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new HcsException(hr, operation, systemId,
                result: ResultError.From(hr, $"{Path.GetFileName(file)} {string.Join(' ', list.Take(3))}… failed ({result.ExitCode}): {result.Message}", "runc"));
        }

        return result;
    }
}
