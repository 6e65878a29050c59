// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.ComputeCore;

/// <summary>The Win32 helpers the HCS API's callers need (<c>windows.h</c> subset).</summary>
internal static unsafe partial class Exports
{
    /// <summary><c>LocalFree</c>: frees a string the library returned (or any NULL); returns NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "LocalFree")]
    public static nint LocalFree(nint memory)
    {
        NativeMemory.Free((void*)memory);
        return 0;
    }
}
