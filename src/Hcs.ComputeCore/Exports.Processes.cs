// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>
/// The process functions of <c>computecore.h</c>, and the two operation functions that return a process's information.
/// Process handles are stored as <see cref="HcsProcess"/>; the stdio streams reach the caller as file descriptors
/// (<see cref="StdioBridge"/>).
/// </summary>
internal static unsafe partial class Exports
{
    private delegate int ProcessCall(HcsProcess process, HcsOperation operation, string? options);

    /// <summary><c>HcsCreateProcess</c>: the handle at once; the operation completes when the process has started.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCreateProcess")]
    public static int CreateProcess(nint computeSystem, nint processParameters, nint operation, nint securityDescriptor, nint* process)
    {
        try
        {
            if (process == null)
            {
                return HResults.E_POINTER;
            }

            *process = 0;
            if (NativeHandles.Get<HcsSystem>(computeSystem) is not { } system)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            if (securityDescriptor != 0 || NativeStrings.Read(processParameters) is not { } parameters)
            {
                return HResults.E_INVALIDARG;
            }

            var hr = HcsCreateProcess(system, parameters, op.Managed, null, out var created);
            if (created is not null)
            {
                *process = NativeHandles.Add(created);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsOpenProcess</c> (synchronous): a new handle to a running process; it has no stdio.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsOpenProcess")]
    public static int OpenProcess(nint computeSystem, uint processId, uint requestedAccess, nint* process)
    {
        try
        {
            if (process == null)
            {
                return HResults.E_POINTER;
            }

            *process = 0;
            if (NativeHandles.Get<HcsSystem>(computeSystem) is not { } system)
            {
                return NativeHandles.Invalid(computeSystem);
            }

            var hr = HcsOpenProcess(system, processId, requestedAccess, out var opened);
            if (opened is not null)
            {
                *process = NativeHandles.Add(opened);
            }

            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsCloseProcess</c>: never kills the process; waits for an event callback running on another thread (not for
    /// itself, from inside it). Descriptors already handed out stay the caller's.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsCloseProcess")]
    public static void CloseProcess(nint process)
    {
        try
        {
            if (NativeHandles.Get<HcsProcess>(process) is { } managed)
            {
                HcsCloseProcess(managed);
                NativeHandles.Remove<HcsProcess>(process);
            }
        }
        catch (Exception)
        {
            // Nothing to report through a void function.
        }
    }

    /// <summary><c>HcsTerminateProcess</c>: <paramref name="options"/> must be NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsTerminateProcess")]
    public static int TerminateProcess(nint process, nint operation, nint options) =>
        OnProcess(HcsTerminateProcess, process, operation, options);

    /// <summary><c>HcsSignalProcess</c>: <c>SignalProcessOptions</c>.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSignalProcess")]
    public static int SignalProcess(nint process, nint operation, nint options) =>
        OnProcess(HcsSignalProcess, process, operation, options);

    /// <summary><c>HcsGetProcessProperties</c>: the <c>ProcessStatus</c> document.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetProcessProperties")]
    public static int GetProcessProperties(nint process, nint operation, nint propertyQuery) =>
        OnProcess(HcsGetProcessProperties, process, operation, propertyQuery);

    /// <summary><c>HcsModifyProcess</c>: a <c>ProcessModifyRequest</c> (close a stdio handle, console size).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsModifyProcess")]
    public static int ModifyProcess(nint process, nint operation, nint settings) =>
        settings == 0 ? HResults.E_INVALIDARG : OnProcess((p, o, s) => HcsModifyProcess(p, o, s!), process, operation, settings);

    /// <summary>
    /// <c>HcsGetProcessInfo</c>: its operation's <c>HcsGetOperationResultAndProcessInfo</c> gives the process id and the
    /// stdio descriptors not handed out before (<see cref="StdioBridge"/>).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetProcessInfo")]
    public static int GetProcessInfo(nint process, nint operation) =>
        OnProcess((p, o, _) => HcsGetProcessInfo(p, o), process, operation, 0);

    /// <summary><c>HcsSetProcessCallback</c>: <c>HcsEventProcessExited</c> (and <c>HcsEventServiceDisconnect</c>).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsSetProcessCallback")]
    public static int SetProcessCallback(nint process, uint callbackOptions, nint context, nint callback)
    {
        try
        {
            if (NativeHandles.Get<HcsProcess>(process) is not { } managed)
            {
                return NativeHandles.Invalid(process);
            }

            return callback == 0
                ? HResults.E_INVALIDARG
                : HcsSetProcessCallback(managed, (HcsEventOptions)callbackOptions, NativeEvents.Bind(context, callback), NativeEvents.Forward);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsWaitForProcessExit</c>: the result is the <c>ProcessStatus</c> document (with <c>ExitCode</c>).</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsWaitForProcessExit")]
    public static int WaitForProcessExit(nint process, uint timeoutMs, nint* result)
    {
        try
        {
            NativeStrings.Store(result, null);
            if (NativeHandles.Get<HcsProcess>(process) is not { } managed)
            {
                return NativeHandles.Invalid(process);
            }

            var hr = HcsWaitForProcessExit(managed, timeoutMs, out var document);
            NativeStrings.Store(result, document);
            return hr;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// <c>HcsGetOperationResultAndProcessInfo</c>: the process information is filled when the result is <c>S_OK</c>
    /// (otherwise id 0 and every stream <c>INVALID_HANDLE_VALUE</c>).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsGetOperationResultAndProcessInfo")]
    public static int GetOperationResultAndProcessInfo(nint operation, StdioBridge.ProcessInformationNative* processInformation, nint* resultDocument)
    {
        try
        {
            NativeStrings.Store(resultDocument, null);
            StdioBridge.Clear(processInformation);
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var hr = HcsGetOperationResultAndProcessInfo(op.Managed, out var information, out var document);
            return Finish(hr, information, document, processInformation, resultDocument);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary><c>HcsWaitForOperationResultAndProcessInfo</c>: as <see cref="GetOperationResultAndProcessInfo"/>, waiting.</summary>
    [UnmanagedCallersOnly(EntryPoint = "HcsWaitForOperationResultAndProcessInfo")]
    public static int WaitForOperationResultAndProcessInfo(nint operation, uint timeoutMs, StdioBridge.ProcessInformationNative* processInformation,
        nint* resultDocument)
    {
        try
        {
            NativeStrings.Store(resultDocument, null);
            StdioBridge.Clear(processInformation);
            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            var hr = HcsWaitForOperationResultAndProcessInfo(op.Managed, timeoutMs, out var information, out var document);
            return Finish(hr, information, document, processInformation, resultDocument);
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    private static int Finish(int hr, HcsProcessInformation? information, string? document,
        StdioBridge.ProcessInformationNative* processInformation, nint* resultDocument)
    {
        if (hr == HResults.S_OK)
        {
            var stored = StdioBridge.Store(processInformation, information);
            if (stored < 0)
            {
                return stored;
            }
        }

        NativeStrings.Store(resultDocument, document);
        return hr;
    }

    private static int OnProcess(ProcessCall call, nint process, nint operation, nint options)
    {
        try
        {
            if (NativeHandles.Get<HcsProcess>(process) is not { } managed)
            {
                return NativeHandles.Invalid(process);
            }

            if (NativeOperation.From(operation) is not { } op)
            {
                return NativeHandles.Invalid(operation);
            }

            return call(managed, op.Managed, NativeStrings.Read(options));
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }
}
