// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hcs.Engine;

/// <summary>Settings of a <see cref="ComputeEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// How long <c>ShutDown</c> waits for the guest to stop before failing with <c>ERROR_TIMEOUT</c> and leaving the
    /// system running. hcsshim's lifecycle timeouts default to 4 minutes; so does this.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>The clock; tests inject a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where the engine persists its systems (write-through on every transition), so that
    /// <see cref="ComputeEngine.RecoverAsync"/> can find them after a restart and <see cref="ComputeEngine.DetachAsync"/>
    /// can leave them running. Null (the default, for embedded engines and tests): nothing is persisted. The engine
    /// owns the store from construction on and disposes it when it is disposed or detached.
    /// </summary>
    public IStateStore? Store { get; init; }

    /// <summary>Where the engine logs (state store failures, recovery). Default: nowhere.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// How long a stopped system's record is kept across restarts when no client reopens it: recovery drops records
    /// of systems that stopped longer ago than this. Default: 7 days.
    /// </summary>
    public TimeSpan StoppedRecordRetention { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Name reported for the service in logs.</summary>
    public string ServiceName { get; init; } = "hcs";

    /// <summary>
    /// Where <c>HcsSubmitWerReport</c> files crash reports (the Windows Error Reporting queue analog); created 0700
    /// on first use. An absolute path without <c>..</c> segments or control characters. Default:
    /// <see cref="DefaultCrashDirectory"/>.
    /// </summary>
    public string CrashDirectory { get; init; } = DefaultCrashDirectory();

    /// <summary>What <c>HcsSubmitWerReport</c> accepts: the size of a report, and quotas per uid and for the directory.</summary>
    public CrashReportLimits CrashReports { get; init; } = new();

    /// <summary>
    /// <c>/var/lib/hcs/crash</c> for a privileged service (root, as hcsd runs); otherwise the user's state directory,
    /// <c>$XDG_STATE_HOME/hcs/crash</c> (<c>~/.local/state/hcs/crash</c>), so an embedded engine run by a user can file
    /// reports too.
    /// </summary>
    public static string DefaultCrashDirectory()
    {
        if (Environment.IsPrivilegedProcess)
        {
            return "/var/lib/hcs/crash";
        }

        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state) || !Path.IsPathRooted(state))
        {
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }

        return Path.Combine(state, "hcs", "crash");
    }
}
