// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Ctl;

/// <summary>
/// The exit codes of <c>hcsctl</c>. <c>exec</c> exits with the process's own exit code when it ran (0–255; a larger
/// code becomes 255), and with <see cref="ExecFailed"/> when hcsctl could not run it or lost it.
/// </summary>
public static class HcsCtlExitCodes
{
    /// <summary>Everything asked for was done.</summary>
    public const int Success = 0;

    /// <summary>The service refused or failed a call (the error line names the HRESULT), or a local file could not be read.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: unknown verb or option, missing or extra arguments. The usage follows the error line.</summary>
    public const int Usage = 2;

    /// <summary>The compute service is not reachable or went away (<c>HCS_E_SERVICE_DISCONNECT</c>).</summary>
    public const int ServiceUnavailable = 3;

    /// <summary><c>exec</c>: hcsctl itself failed (the system is not running, the process could not be created, the system stopped under it).</summary>
    public const int ExecFailed = 125;

    /// <summary>Interrupted by Ctrl-C or SIGTERM before the wait finished (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;
}
