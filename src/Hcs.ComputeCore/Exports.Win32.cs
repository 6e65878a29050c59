// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Linux;

namespace Hcs.ComputeCore;

/// <summary>
/// The Win32 helpers the HCS API's callers need (<c>windows.h</c> subset). <c>BOOL</c> is an <c>int</c> (TRUE 1,
/// FALSE 0); a failure sets this thread's <c>GetLastError</c> value to a Win32 error code.
/// </summary>
internal static unsafe partial class Exports
{
    private const int True = 1, False = 0;

    /// <summary><c>LocalFree</c>: frees a string the library returned (or any NULL); returns NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "LocalFree")]
    public static nint LocalFree(nint memory)
    {
        NativeMemory.Free((void*)memory);
        return 0;
    }

    /// <summary>
    /// <c>CloseHandle</c>: an event from <c>CreateEventW</c> is freed; any other value from 1 to <c>INT_MAX</c> is a file
    /// descriptor (the stdio handles of <c>HCS_PROCESS_INFORMATION</c> are <c>(HANDLE)(intptr_t)fd</c>) and is
    /// <c>close</c>d. NULL, <c>INVALID_HANDLE_VALUE</c>, a closed event, a descriptor that is not open and any other
    /// value: FALSE with <c>ERROR_INVALID_HANDLE</c>.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "CloseHandle")]
    public static int CloseHandle(nint handle)
    {
        try
        {
            if (Win32Objects.CloseEvent(handle))
            {
                return True;
            }

            if (handle <= 0 || handle > int.MaxValue)
            {
                return Fail(Win32Objects.ErrorInvalidHandle);
            }

            if (FileDescriptors.Close((int)handle) == 0 || LinuxCalls.Errno == LinuxCalls.EINTR)
            {
                return True; // Linux releases the descriptor even when close reports EINTR
            }

            return Fail(LinuxCalls.Errno == 9 /* EBADF */ ? Win32Objects.ErrorInvalidHandle : Win32Objects.ErrorGenFailure);
        }
        catch (Exception)
        {
            return Fail(Win32Objects.ErrorGenFailure);
        }
    }

    /// <summary>
    /// <c>CreateEventW</c>: an unnamed event in this process. <paramref name="attributes"/> and <paramref name="name"/>
    /// must be NULL (no security attributes or cross-process names on Linux): otherwise NULL with <c>ERROR_NOT_SUPPORTED</c>.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "CreateEventW")]
    public static nint CreateEventW(nint attributes, int manualReset, int initialState, nint name)
    {
        try
        {
            if (attributes != 0 || name != 0)
            {
                Win32Objects.LastError = Win32Objects.ErrorNotSupported;
                return 0;
            }

            var handle = Win32Objects.CreateEvent(manualReset != 0, initialState != 0);
            Win32Objects.LastError = 0;
            return handle;
        }
        catch (Exception)
        {
            Win32Objects.LastError = Win32Objects.ErrorNotEnoughMemory;
            return 0;
        }
    }

    /// <summary><c>SetEvent</c>: FALSE with <c>ERROR_INVALID_HANDLE</c> for anything but a live event.</summary>
    [UnmanagedCallersOnly(EntryPoint = "SetEvent")]
    public static int SetEvent(nint handle)
    {
        if (Win32Objects.EventOf(handle) is not { } e)
        {
            return Fail(Win32Objects.ErrorInvalidHandle);
        }

        e.Set();
        return True;
    }

    /// <summary><c>ResetEvent</c>: FALSE with <c>ERROR_INVALID_HANDLE</c> for anything but a live event.</summary>
    [UnmanagedCallersOnly(EntryPoint = "ResetEvent")]
    public static int ResetEvent(nint handle)
    {
        if (Win32Objects.EventOf(handle) is not { } e)
        {
            return Fail(Win32Objects.ErrorInvalidHandle);
        }

        e.Reset();
        return True;
    }

    /// <summary>
    /// <c>WaitForSingleObject</c> on an event: <c>WAIT_OBJECT_0</c> when signalled (an auto-reset event is reset by that
    /// wait), <c>WAIT_TIMEOUT</c> after <paramref name="milliseconds"/> (<c>INFINITE</c>: none), <c>WAIT_FAILED</c> with
    /// <c>ERROR_INVALID_HANDLE</c> for anything that is not a live event (descriptors cannot be waited on).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "WaitForSingleObject")]
    public static uint WaitForSingleObject(nint handle, uint milliseconds)
    {
        try
        {
            if (Win32Objects.EventOf(handle) is not { } e)
            {
                Win32Objects.LastError = Win32Objects.ErrorInvalidHandle;
                return Win32Objects.WaitFailed;
            }

            return e.Wait(milliseconds) ? Win32Objects.WaitObject0 : Win32Objects.WaitTimeout;
        }
        catch (Exception)
        {
            Win32Objects.LastError = Win32Objects.ErrorGenFailure;
            return Win32Objects.WaitFailed;
        }
    }

    /// <summary><c>Sleep</c>: suspends the calling thread for <paramref name="milliseconds"/> (<c>INFINITE</c>: forever).</summary>
    [UnmanagedCallersOnly(EntryPoint = "Sleep")]
    public static void Sleep(uint milliseconds)
    {
        try
        {
#pragma warning disable RS0030 // Win32 Sleep blocks the calling (C) thread by contract: there is no async caller to yield to
            if (milliseconds == Win32Objects.Infinite)
            {
                Thread.Sleep(Timeout.Infinite);
            }

            for (var left = milliseconds; left > 0;)
            {
                var step = Math.Min(left, (uint)int.MaxValue); // Thread.Sleep takes at most int.MaxValue ms
                Thread.Sleep((int)step);
                left -= step;
            }
#pragma warning restore RS0030
        }
        catch (Exception)
        {
            // Nothing to report through a void function.
        }
    }

    /// <summary><c>GetLastError</c>: the Win32 error code the last failed compatibility function set on this thread.</summary>
    [UnmanagedCallersOnly(EntryPoint = "GetLastError")]
    public static uint GetLastError() => Win32Objects.LastError;

    private static int Fail(uint error)
    {
        Win32Objects.LastError = error;
        return False;
    }
}
