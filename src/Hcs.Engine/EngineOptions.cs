// Copyright (c) hcs contributors. Licensed under the MIT licence.

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

    /// <summary>Name reported for the service in logs.</summary>
    public string ServiceName { get; init; } = "hcs";

    /// <summary>
    /// Where <c>HcsSubmitWerReport</c> files crash reports (the Windows Error Reporting queue analog); created 0700
    /// on first use. An absolute path without <c>..</c> segments or control characters. Default:
    /// <see cref="DefaultCrashDirectory"/>.
    /// </summary>
    public string CrashDirectory { get; init; } = DefaultCrashDirectory();

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
