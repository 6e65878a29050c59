// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;

namespace Hcs.Ctl;

/// <summary>The one-line error format: <c>hcsctl: VERB ID: HCS_E_NAME (0x8037xxxx): message</c>.</summary>
internal static class ErrorLines
{
    public static string Format(string verb, string? subject, string text) =>
        $"hcsctl: {verb}{(subject is null ? "" : " " + subject)}: {OneLine(text)}";

    public static string Format(string verb, string? subject, Exception exception, string? note = null)
    {
        var text = exception switch
        {
            HcsException hcs => string.Create(CultureInfo.InvariantCulture,
                $"{hcs.HResultName} (0x{hcs.HResult:X8}): {hcs.Result.ErrorMessage ?? HResults.MessageOf(hcs.HResult)}"),
            LocalException local => local.Message,
            _ => $"{exception.GetType().Name}: {exception.Message}",
        };
        return Format(verb, subject, text + note);
    }

    public static int ExitCode(Exception exception) => exception switch
    {
        HcsException { HResult: HResults.HCS_E_SERVICE_DISCONNECT } => HcsCtlExitCodes.ServiceUnavailable,
        _ => HcsCtlExitCodes.Failed,
    };

    /// <summary>Folds a multi-line message onto one line.</summary>
    public static string OneLine(string text) =>
        string.Join("; ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
