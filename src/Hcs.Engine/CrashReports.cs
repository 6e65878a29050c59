// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Runtime.Versioning;
using System.Text;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// <c>HcsSubmitWerReport</c> on Linux: a <c>CrashReport</c> (as delivered in a <c>SystemCrashReport</c> event) is
/// filed in <see cref="EngineOptions.CrashDirectory"/> as <c>SYSTEMID-yyyyMMddTHHmmssfffZ-ACTIVITYID.json</c> (the
/// report, validated and re-serialised, its <c>CrashLog</c> included) plus, when the report has a crash log, the same
/// name with <c>.log</c> holding the log as plain text. The directory is created 0700 and the files 0600; an existing
/// file is never overwritten (a clash gets a <c>-N</c> suffix). The ActivityId is the report's, or a new one.
/// </summary>
internal static class CrashReports
{
    /// <summary>Largest report accepted (in characters); crash logs are a console tail, far smaller.</summary>
    public const int MaxLength = 16 * 1024 * 1024;

    private const string Label = "Service.SubmitWerReport";
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ReportFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Checks <see cref="EngineOptions.CrashDirectory"/>: absolute, no <c>..</c> segment, no control characters.</summary>
    public static void ValidateDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!directory.StartsWith('/') || directory.Split('/').Contains("..") || directory.Any(char.IsControl))
        {
            throw new ArgumentException($"crash directory '{directory}' must be an absolute path without '..' segments or control characters",
                nameof(directory));
        }
    }

    /// <summary>Parses and checks a submitted report: strict CrashReport JSON with a valid <c>SystemId</c>.</summary>
    public static CrashReport Parse(string? settings)
    {
        if (settings is null)
        {
            throw HcsException.InvalidJson("$", "a CrashReport document is required", Label);
        }

        if (settings.Length > MaxLength)
        {
            throw HcsException.InvalidJson("$", $"the crash report is larger than {MaxLength} characters", Label);
        }

        CrashReport report;
        try
        {
            report = HcsJson.Deserialize<CrashReport>(settings);
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, Label, result: e.Result, inner: e);
        }

        if (string.IsNullOrEmpty(report.SystemId))
        {
            throw HcsException.InvalidJson("$.SystemId", "required member 'SystemId' is missing", Label);
        }

        if (SystemIds.Check(report.SystemId) is { } reason)
        {
            throw HcsException.InvalidJson("$.SystemId", $"'{ErrorText.Truncate(report.SystemId)}' is not a compute system id: {reason}", Label);
        }

        return report;
    }

    /// <summary>Files <paramref name="settings"/> in <paramref name="directory"/>; returns the path of the <c>.json</c> file.</summary>
    public static async Task<string> SubmitAsync(string? settings, string directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var report = Parse(settings);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("crash reports are filed with Unix permissions");
        }

        cancellationToken.ThrowIfCancellationRequested(); // once filing starts it completes: no half-written report
        var activity = report.ActivityId ?? Guid.NewGuid();
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var stem = $"{report.SystemId}-{stamp}-{activity:D}";
        var json = HcsJson.Serialize(report);
        try
        {
            Directory.CreateDirectory(directory, DirectoryMode);
            for (var n = 0; ; n++)
            {
                var name = n == 0 ? stem : string.Create(CultureInfo.InvariantCulture, $"{stem}-{n}");
                var jsonPath = Path.Combine(directory, name + ".json");
                var logPath = Path.Combine(directory, name + ".log");
                if (File.Exists(logPath) || !await TryWriteNewAsync(jsonPath, json).ConfigureAwait(false))
                {
                    if (n == 1000)
                    {
                        throw new HcsException(HResults.ERROR_ALREADY_EXISTS, Label, report.SystemId);
                    }

                    continue;
                }

                if (!string.IsNullOrEmpty(report.CrashLog) && !await TryWriteNewAsync(logPath, report.CrashLog).ConfigureAwait(false))
                {
                    throw new HcsException(HResults.ERROR_ALREADY_EXISTS, Label, report.SystemId,
                        result: ResultError.From(HResults.ERROR_ALREADY_EXISTS, $"{logPath} appeared while the report was being filed"));
                }

                return jsonPath;
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new HcsException(HResults.E_ACCESSDENIED, Label, report.SystemId,
                result: ResultError.From(HResults.E_ACCESSDENIED, $"cannot file the crash report in {directory}: {e.Message}"), inner: e);
        }
        catch (IOException e)
        {
            throw new HcsException(HResults.E_FAIL, Label, report.SystemId,
                result: ResultError.From(HResults.E_FAIL, $"cannot file the crash report in {directory}: {e.Message}"), inner: e);
        }
    }

    /// <summary>Creates <paramref name="path"/> (0600) with <paramref name="text"/>; false if it already exists.</summary>
    [UnsupportedOSPlatform("windows")]
    private static async Task<bool> TryWriteNewAsync(string path, string text)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = ReportFileMode,
                Options = FileOptions.Asynchronous,
            });
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }

        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text), CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }
}
