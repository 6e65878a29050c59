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
/// file is never overwritten (a clash gets a <c>-N</c> suffix). The ActivityId is the report's, or a new one. What a
/// client may file is bounded (<see cref="CrashReportLimits"/>): the size of one report, and per uid the reports and
/// bytes it filed that are still in the directory, and the directory as a whole; over a quota the call fails with
/// <c>ERROR_NOT_ENOUGH_QUOTA</c> and files nothing.
/// </summary>
internal static class CrashReports
{

    private const string Label = OperationLabels.SubmitWerReport;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode ReportFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Checks <see cref="EngineOptions.CrashDirectory"/>: absolute, no <c>..</c> segment, no control characters.</summary>
    public static void ValidateDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Hcs.Linux.HostPaths.IsValid(directory))
        {
            throw new ArgumentException($"crash directory '{directory}' must be an absolute path without '..' segments or control characters",
                nameof(directory));
        }
    }

    /// <summary>Parses and checks a submitted report: strict CrashReport JSON with a valid <c>SystemId</c>.</summary>
    public static CrashReport Parse(string? settings, int maxLength)
    {
        if (settings is null)
        {
            throw HcsException.InvalidJson("$", "a CrashReport document is required", Label);
        }

        if (settings.Length > maxLength)
        {
            throw HcsException.InvalidJson("$", string.Create(CultureInfo.InvariantCulture,
                $"the crash report is {settings.Length} characters, larger than the {maxLength} this service accepts"), Label);
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

    /// <summary>
    /// Files <paramref name="settings"/> in <paramref name="directory"/> for <paramref name="uid"/>, within the quotas
    /// <paramref name="ledger"/> keeps; returns the path of the <c>.json</c> file.
    /// </summary>
    public static async Task<string> SubmitAsync(string? settings, string directory, CrashReportLedger ledger, uint uid, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var report = Parse(settings, ledger.Limits.MaxReportCharacters);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("crash reports are filed with Unix permissions");
        }

        cancellationToken.ThrowIfCancellationRequested(); // once filing starts it completes: no half-written report
        var activity = report.ActivityId ?? Guid.NewGuid();
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var stem = $"{report.SystemId}-{stamp}-{activity:D}";
        var json = Encoding.UTF8.GetBytes(HcsJson.Serialize(report));
        var log = string.IsNullOrEmpty(report.CrashLog) ? null : Encoding.UTF8.GetBytes(report.CrashLog);
        var reservation = ledger.Reserve(uid, directory, json.Length + (log?.Length ?? 0), report.SystemId);
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

                reservation.Filed(jsonPath);
                if (log is not null)
                {
                    if (!await TryWriteNewAsync(logPath, log).ConfigureAwait(false))
                    {
                        throw new HcsException(HResults.ERROR_ALREADY_EXISTS, Label, report.SystemId,
                            result: ResultError.From(HResults.ERROR_ALREADY_EXISTS, $"{logPath} appeared while the report was being filed"));
                    }

                    reservation.Filed(logPath);
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
        finally
        {
            reservation.Complete();
        }
    }

    /// <summary>Creates <paramref name="path"/> (0600) with <paramref name="bytes"/>; false if it already exists.</summary>
    [UnsupportedOSPlatform("windows")]
    private static async Task<bool> TryWriteNewAsync(string path, byte[] bytes)
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
            await stream.WriteAsync(bytes, CancellationToken.None).ConfigureAwait(false);
        }

        return true;
    }
}

/// <summary>
/// Limits of <c>HcsSubmitWerReport</c> (<see cref="EngineOptions.CrashReports"/>). A legitimate report is the
/// <c>CrashReport</c> of a <c>SystemCrashReport</c> event: a 64 KiB console tail and a few fields, under 400 KiB even
/// with every character escaped.
/// </summary>
public sealed record CrashReportLimits
{
    /// <summary>The largest report accepted, in characters of its JSON (default 1 Mi); a larger one is <c>HCS_E_INVALID_JSON</c> at <c>$</c>.</summary>
    public int MaxReportCharacters { get; init; } = 1024 * 1024;

    /// <summary>Reports one uid may have filed and still in the directory (default 100).</summary>
    public int MaxReportsPerUid { get; init; } = 100;

    /// <summary>Bytes (<c>.json</c> + <c>.log</c>) one uid may have filed and still in the directory (default 64 MiB).</summary>
    public long MaxBytesPerUid { get; init; } = 64L * 1024 * 1024;

    /// <summary>Bytes of all files in the crash directory, whoever filed them and across restarts (default 1 GiB).</summary>
    public long MaxDirectoryBytes { get; init; } = 1024L * 1024 * 1024;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for a limit that is not positive.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReportCharacters, 1, nameof(MaxReportCharacters));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReportsPerUid, 1, nameof(MaxReportsPerUid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBytesPerUid, 1, nameof(MaxBytesPerUid));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDirectoryBytes, 1, nameof(MaxDirectoryBytes));
    }
}

/// <summary>
/// Who filed which crash report, for the per-uid quotas: the files each uid filed during this engine's life. A file
/// an administrator removed no longer counts. The directory-wide quota is measured on disk at every submission, so it
/// holds across restarts too (the per-uid count starts again with each engine).
/// </summary>
internal sealed class CrashReportLedger(CrashReportLimits limits)
{
    private const string Label = OperationLabels.SubmitWerReport;
    private readonly Lock _gate = new();
    private readonly Dictionary<uint, List<Filed>> _filed = []; // guarded by _gate: per uid, reports filed or being filed

    public CrashReportLimits Limits { get; } = limits;

    /// <summary>Counts a report of <paramref name="bytes"/> bytes against <paramref name="uid"/>'s quotas, or refuses it with <c>ERROR_NOT_ENOUGH_QUOTA</c>.</summary>
    public Reservation Reserve(uint uid, string directory, long bytes, string? systemId)
    {
        var onDisk = DirectoryBytes(directory); // outside the lock: a directory walk
        lock (_gate)
        {
            if (!_filed.TryGetValue(uid, out var reports))
            {
                _filed[uid] = reports = [];
            }

            reports.RemoveAll(r => r.Complete && r.Paths.All(p => !File.Exists(p)));
            var count = reports.Count;
            var used = reports.Sum(r => r.Bytes);
            var pending = _filed.Values.SelectMany(r => r).Where(r => !r.Complete).Sum(r => r.Bytes);
            string? over = null;
            if (count + 1 > Limits.MaxReportsPerUid)
            {
                over = string.Create(CultureInfo.InvariantCulture, $"uid {uid} has {count} crash reports in {directory}, the most one uid may have ({Limits.MaxReportsPerUid})");
            }
            else if (used + bytes > Limits.MaxBytesPerUid)
            {
                over = string.Create(CultureInfo.InvariantCulture,
                    $"uid {uid} has {used} bytes of crash reports in {directory}; this one ({bytes} bytes) would exceed the {Limits.MaxBytesPerUid} bytes one uid may have");
            }
            else if (onDisk + pending + bytes > Limits.MaxDirectoryBytes)
            {
                over = string.Create(CultureInfo.InvariantCulture,
                    $"{directory} holds {onDisk} bytes of crash reports; this one ({bytes} bytes) would exceed the {Limits.MaxDirectoryBytes} bytes it may hold");
            }

            if (over is not null)
            {
                throw new HcsException(HResults.ERROR_NOT_ENOUGH_QUOTA, Label, systemId,
                    result: ResultError.From(HResults.ERROR_NOT_ENOUGH_QUOTA, over + "; nothing was filed (remove old reports to file more)"));
            }

            var entry = new Filed(bytes);
            reports.Add(entry);
            return new Reservation(this, reports, entry);
        }
    }

    private static long DirectoryBytes(string directory)
    {
        try
        {
            return new DirectoryInfo(directory).EnumerateFiles().Sum(f => f.Length);
        }
        catch (DirectoryNotFoundException)
        {
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0; // filing will fail with the reason
        }
    }

    /// <summary>A report being filed: its files, once written, count until removed; a report that filed nothing is forgotten.</summary>
    internal sealed class Reservation(CrashReportLedger ledger, List<Filed> reports, Filed entry)
    {
        public void Filed(string path)
        {
            lock (ledger._gate)
            {
                entry.Paths.Add(path);
            }
        }

        public void Complete()
        {
            lock (ledger._gate)
            {
                entry.Complete = true;
                if (entry.Paths.Count == 0)
                {
                    reports.Remove(entry);
                }
            }
        }
    }

    internal sealed class Filed(long bytes)
    {
        public long Bytes { get; } = bytes;

        public List<string> Paths { get; } = [];

        public bool Complete { get; set; }
    }
}
