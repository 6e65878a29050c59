// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>The service functions of <c>computecore.h</c> (synchronous).</summary>
internal static unsafe partial class Exports
{
    /// <summary><c>HcsGetServiceProperties</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetServiceProperties")]
    public static int GetServiceProperties(nint propertyQuery, nint* result)
    {
        try
        {
            if (result == null)
            {
                return HResults.E_POINTER;
            }

            *result = 0;
            NativeService.Ensure();
            var hr = HcsGetServiceProperties(NativeStrings.Read(propertyQuery), out var document);
            *result = NativeStrings.Allocate(document);
            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsSubmitWerReport</c>: files the crash report with the service (its crash directory on Linux).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSubmitWerReport")]
    public static int SubmitWerReport(nint settings)
    {
        try
        {
            NativeService.Ensure();
            return HcsSubmitWerReport(NativeStrings.Read(settings));
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }
}
