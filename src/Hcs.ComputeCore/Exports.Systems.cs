// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>The compute-system functions of <c>computecore.h</c>.</summary>
internal static unsafe partial class Exports
{
    private delegate int SystemCall(HcsSystem? system, HcsOperation? operation, string? options);

    /// <summary><c>HcsCreateComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateComputeSystem")]
    public static int CreateComputeSystem(nint id, nint configuration, nint operation, nint securityDescriptor, nint* computeSystem)
    {
        try
        {
            if (computeSystem == null)
            {
                return HResults.E_POINTER;
            }

            *computeSystem = 0;
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            if (securityDescriptor != 0)
            {
                return HResults.E_INVALIDARG;
            }

            NativeService.Ensure();
            var hr = HcsCreateComputeSystem(NativeStrings.Read(id)!, NativeStrings.Read(configuration)!, op.Managed, null, out var system);
            if (system is not null)
            {
                *computeSystem = NativeHandles.Add(system);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsOpenComputeSystem</c> (synchronous).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsOpenComputeSystem")]
    public static int OpenComputeSystem(nint id, uint requestedAccess, nint* computeSystem)
    {
        try
        {
            if (computeSystem == null)
            {
                return HResults.E_POINTER;
            }

            *computeSystem = 0;
            NativeService.Ensure();
            var hr = HcsOpenComputeSystem(NativeStrings.Read(id)!, requestedAccess, out var system);
            if (system is not null)
            {
                *computeSystem = NativeHandles.Add(system);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsCloseComputeSystem</c>: waits for an event callback running on another thread; from inside this handle's
    /// own callback it does not wait for itself.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCloseComputeSystem")]
    public static void CloseComputeSystem(nint computeSystem)
    {
        try
        {
            if (NativeHandles.Get<HcsSystem>(computeSystem) is { } system)
            {
                HcsCloseComputeSystem(system);
                NativeHandles.Remove<HcsSystem>(computeSystem);
            }
        }
        catch (Exception)
        {
            // Nothing to report through a void function.
        }
    }

    /// <summary><c>HcsStartComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsStartComputeSystem")]
    public static int StartComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsStartComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsShutDownComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsShutDownComputeSystem")]
    public static int ShutDownComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsShutDownComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsTerminateComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsTerminateComputeSystem")]
    public static int TerminateComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsTerminateComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsCrashComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCrashComputeSystem")]
    public static int CrashComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsCrashComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsPauseComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsPauseComputeSystem")]
    public static int PauseComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsPauseComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsResumeComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsResumeComputeSystem")]
    public static int ResumeComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsResumeComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsSaveComputeSystem</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSaveComputeSystem")]
    public static int SaveComputeSystem(nint computeSystem, nint operation, nint options) =>
        OnSystem(HcsSaveComputeSystem, computeSystem, operation, options);

    /// <summary><c>HcsGetComputeSystemProperties</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetComputeSystemProperties")]
    public static int GetComputeSystemProperties(nint computeSystem, nint operation, nint propertyQuery) =>
        OnSystem(HcsGetComputeSystemProperties, computeSystem, operation, propertyQuery);

    /// <summary><c>HcsModifyComputeSystem</c>: <paramref name="identity"/> must be NULL (there is no Windows token to act as).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsModifyComputeSystem")]
    public static int ModifyComputeSystem(nint computeSystem, nint operation, nint configuration, nint identity) =>
        identity != 0
            ? HResults.E_INVALIDARG
            : OnSystem((s, o, c) => HcsModifyComputeSystem(s, o, c!, null), computeSystem, operation, configuration);

    /// <summary><c>HcsWaitForComputeSystemExit</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsWaitForComputeSystemExit")]
    public static int WaitForComputeSystemExit(nint computeSystem, uint timeoutMs, nint* result)
    {
        try
        {
            NativeStrings.Store(result, null);
            if (NativeHandles.Get<HcsSystem>(computeSystem) is not { } system)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            var hr = HcsWaitForComputeSystemExit(system, timeoutMs, out var document);
            NativeStrings.Store(result, document);
            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsSetComputeSystemCallback</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSetComputeSystemCallback")]
    public static int SetComputeSystemCallback(nint computeSystem, uint callbackOptions, nint context, nint callback)
    {
        try
        {
            if (NativeHandles.Get<HcsSystem>(computeSystem) is not { } system)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            return callback == 0
                ? HResults.E_INVALIDARG
                : HcsSetComputeSystemCallback(system, (HcsEventOptions)callbackOptions, NativeEvents.Bind(context, callback), NativeEvents.Forward);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    private static int OnSystem(SystemCall call, nint computeSystem, nint operation, nint options)
    {
        try
        {
            if (NativeHandles.Get<HcsSystem>(computeSystem) is not { } system)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            return call(system, op.Managed, NativeStrings.Read(options));
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }
}
