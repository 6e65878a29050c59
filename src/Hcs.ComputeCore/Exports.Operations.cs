// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>The operation functions of <c>computecore.h</c>.</summary>
internal static unsafe partial class Exports
{
    /// <summary><c>HcsCreateOperation</c>: NULL on failure.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateOperation")]
    public static nint CreateOperation(nint context, nint callback)
    {
        try
        {
            return NativeOperation.Create(context, callback).Handle;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    /// <summary><c>HcsCloseOperation</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCloseOperation")]
    public static void CloseOperation(nint operation)
    {
        try
        {
            NativeOperation.Close(operation);
        }
        catch (Exception)
        {
            // Nothing to report through a void function; the handle is gone either way.
        }
    }

    /// <summary><c>HcsGetOperationContext</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationContext")]
    public static nint GetOperationContext(nint operation)
    {
        try
        {
            return NativeOperation.From(operation)?.Context ?? 0;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    /// <summary><c>HcsSetOperationContext</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSetOperationContext")]
    public static int SetOperationContext(nint operation, nint context)
    {
        try
        {
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            op.SetContext(context);
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsSetOperationCallback</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSetOperationCallback")]
    public static int SetOperationCallback(nint operation, nint context, nint callback)
    {
        try
        {
            return NativeOperation.From(operation) is { } op ? op.SetCallback(context, callback) : NativeHandles.Invalid(operation);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsGetComputeSystemFromOperation</c>: the system handle the pending operation tracks, or NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetComputeSystemFromOperation")]
    public static nint GetComputeSystemFromOperation(nint operation)
    {
        try
        {
            return NativeOperation.From(operation) is { } op ? NativeHandles.HandleOf(HcsGetComputeSystemFromOperation(op.Managed)) : 0;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    /// <summary><c>HcsGetProcessFromOperation</c>: the process handle the operation is associated with, or NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetProcessFromOperation")]
    public static nint GetProcessFromOperation(nint operation)
    {
        try
        {
            return NativeOperation.From(operation) is { } op ? NativeHandles.HandleOf(HcsGetProcessFromOperation(op.Managed)) : 0;
        }
        catch (Exception)
        {
            return 0;
        }
    }

    /// <summary><c>HcsGetOperationType</c>: <c>HcsOperationTypeNone</c> (-1) for an invalid handle.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationType")]
    public static int GetOperationType(nint operation)
    {
        try
        {
            return (int)HcsGetOperationType(NativeOperation.From(operation)?.Managed);
        }
        catch (Exception)
        {
            return (int)HcsOperationType.None;
        }
    }

    /// <summary><c>HcsGetOperationId</c>: <c>HCS_INVALID_OPERATION_ID</c> for an invalid handle.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationId")]
    public static ulong GetOperationId(nint operation)
    {
        try
        {
            return HcsGetOperationId(NativeOperation.From(operation)?.Managed);
        }
        catch (Exception)
        {
            return HCS_INVALID_OPERATION_ID;
        }
    }

    /// <summary><c>HcsGetOperationResult</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationResult")]
    public static int GetOperationResult(nint operation, nint* resultDocument)
    {
        try
        {
            NativeStrings.Store(resultDocument, null);
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var hr = HcsGetOperationResult(op.Managed, out var document);
            NativeStrings.Store(resultDocument, document);
            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsWaitForOperationResult</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsWaitForOperationResult")]
    public static int WaitForOperationResult(nint operation, uint timeoutMs, nint* resultDocument)
    {
        try
        {
            NativeStrings.Store(resultDocument, null);
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var hr = HcsWaitForOperationResult(op.Managed, timeoutMs, out var document);
            NativeStrings.Store(resultDocument, document);
            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsCancelOperation</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCancelOperation")]
    public static int CancelOperation(nint operation)
    {
        try
        {
            return NativeOperation.From(operation) is { } op ? HcsCancelOperation(op.Managed) : NativeHandles.Invalid(operation);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsEnumerateComputeSystems</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsEnumerateComputeSystems")]
    public static int EnumerateComputeSystems(nint query, nint operation)
    {
        try
        {
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            NativeService.Ensure();
            return HcsEnumerateComputeSystems(NativeStrings.Read(query), op.Managed);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }
}
