// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// Predicates that classify failures by HRESULT (never by message text), matching both the
/// <c>0x8037xxxx</c> and the NT-style <c>0xC037xxxx</c> spellings, as hcsshim does.
/// </summary>
public static class HcsErrors
{
    /// <summary>The system (or process) does not exist: <c>HCS_E_SYSTEM_NOT_FOUND</c> or <c>ERROR_NOT_FOUND</c>.</summary>
    public static bool IsNotFound(Exception? e) => IsAny(e, HResults.HCS_E_SYSTEM_NOT_FOUND, HResults.ERROR_NOT_FOUND);

    /// <summary>The system or process has already stopped.</summary>
    public static bool IsAlreadyStopped(Exception? e) =>
        IsAny(e, HResults.HCS_E_SYSTEM_ALREADY_STOPPED, HResults.HCS_E_PROCESS_ALREADY_STOPPED, HResults.ERROR_NOT_FOUND);

    /// <summary>The call is not valid in the current state.</summary>
    public static bool IsInvalidState(Exception? e) => IsAny(e, HResults.HCS_E_INVALID_STATE);

    /// <summary>A wait or a bounded step timed out.</summary>
    public static bool IsTimeout(Exception? e) =>
        IsAny(e, HResults.HCS_E_OPERATION_TIMEOUT, HResults.ERROR_TIMEOUT, HResults.HCS_E_CONNECTION_TIMEOUT);

    /// <summary>The document or request is not supported: invalid JSON, not supported, invalid data.</summary>
    public static bool IsNotSupported(Exception? e) =>
        IsAny(e, HResults.HCS_E_INVALID_JSON, HResults.ERROR_NOT_SUPPORTED, HResults.ERROR_INVALID_DATA, HResults.E_NOTIMPL);

    /// <summary>The system already exists.</summary>
    public static bool IsAlreadyExists(Exception? e) => IsAny(e, HResults.HCS_E_SYSTEM_ALREADY_EXISTS);

    /// <summary>The service went away: every handle is now useless; reconnect and reopen.</summary>
    public static bool IsServiceDisconnect(Exception? e) => IsAny(e, HResults.HCS_E_SERVICE_DISCONNECT);

    /// <summary>The operation is still pending.</summary>
    public static bool IsPending(Exception? e) =>
        IsAny(e, HResults.HCS_E_OPERATION_PENDING, HResults.ERROR_VMCOMPUTE_OPERATION_PENDING);

    /// <summary>The caller is not allowed.</summary>
    public static bool IsAccessDenied(Exception? e) => IsAny(e, HResults.HCS_E_ACCESS_DENIED, HResults.E_ACCESSDENIED);

    /// <summary>True if <paramref name="e"/> carries one of <paramref name="hresults"/> (either spelling).</summary>
    public static bool IsAny(Exception? e, params int[] hresults)
    {
        ArgumentNullException.ThrowIfNull(hresults);
        if (e is null)
        {
            return false;
        }

        var hr = HResults.Normalize(e.HResult);
        foreach (var candidate in hresults)
        {
            if (HResults.Normalize(candidate) == hr)
            {
                return true;
            }
        }

        return false;
    }
}
