// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// The computecore-shaped API: the functions of <c>computecore.h</c> with their names, parameter order, HRESULT returns
/// and semantics, so C++ HCS code transcribes line by line (<c>using static Hcs.Client.ComputeCore;</c>).
/// Handles are disposable objects; strings are JSON documents. Calls that take an operation return <c>S_OK</c> once
/// the request is submitted (or an HRESULT for misuse: a null or closed handle, an operation still pending, a callback
/// conflict); the call's own result comes through the operation. The service used is <see cref="HcsClient.Current"/>.
/// </summary>
public static partial class ComputeCore
{
    /// <summary>Wait forever.</summary>
    public const uint INFINITE = 0xFFFFFFFF;

    /// <summary>Returned by <see cref="HcsGetOperationId"/> for an invalid operation.</summary>
    public const ulong HCS_INVALID_OPERATION_ID = ulong.MaxValue;

    /// <summary>The access right to request when opening a system (the only one HCS defines).</summary>
    public const uint GENERIC_ALL = 0x10000000;

    /// <summary>True if <paramref name="hr"/> is a success code.</summary>
    public static bool SUCCEEDED(int hr) => hr >= 0;

    /// <summary>True if <paramref name="hr"/> is a failure code.</summary>
    public static bool FAILED(int hr) => hr < 0;

    // ---- operations ----------------------------------------------------------------------------------------

    /// <summary>Creates an operation with an optional completion callback and context.</summary>
    public static HcsOperation HcsCreateOperation(object? context, HcsOperationCompletion? callback) => new(context, callback);

    /// <summary>
    /// Closes an operation. Safe while pending (the result is abandoned, the work continues) and from its own callback;
    /// a completion callback running on another thread is waited for, so none runs after this returns.
    /// </summary>
    public static void HcsCloseOperation(HcsOperation? operation) => operation?.Dispose();

    /// <summary>The operation's context.</summary>
    public static object? HcsGetOperationContext(HcsOperation? operation) => operation?.Context;

    /// <summary>Replaces the operation's context.</summary>
    public static int HcsSetOperationContext(HcsOperation? operation, object? context)
    {
        if (operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        operation.Context = context;
        return HResults.S_OK;
    }

    /// <summary>Attaches or replaces the completion callback.</summary>
    public static int HcsSetOperationCallback(HcsOperation? operation, object? context, HcsOperationCompletion? callback)
    {
        if (operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        operation.SetCompletion(context, callback);
        return HResults.S_OK;
    }

    /// <summary>The system the operation is tracking, or null when it is not active.</summary>
    public static HcsSystem? HcsGetComputeSystemFromOperation(HcsOperation? operation) => operation?.System;

    /// <summary>The process the operation is associated with, or null.</summary>
    public static HcsProcess? HcsGetProcessFromOperation(HcsOperation? operation) => operation?.Process;

    /// <summary>Which call the operation tracks (<see cref="HcsOperationType.None"/> before it is bound).</summary>
    public static HcsOperationType HcsGetOperationType(HcsOperation? operation) => operation?.Type ?? HcsOperationType.None;

    /// <summary>The operation's id, or <see cref="HCS_INVALID_OPERATION_ID"/>.</summary>
    public static ulong HcsGetOperationId(HcsOperation? operation) => operation?.Id ?? HCS_INVALID_OPERATION_ID;

    /// <summary>
    /// Polls: <c>S_OK</c> done, <c>HCS_E_OPERATION_NOT_STARTED</c>, <c>HCS_E_OPERATION_PENDING</c>, or the tracked call's
    /// failure (with its <c>ResultError</c> document).
    /// </summary>
    public static int HcsGetOperationResult(HcsOperation? operation, out string? resultDocument)
    {
        resultDocument = null;
        return operation is null ? HResults.E_INVALIDARG : operation.GetResult(out resultDocument, out _);
    }

    /// <summary>Like <see cref="HcsGetOperationResult"/>, plus the process information of CreateProcess/GetProcessInfo operations.</summary>
    public static int HcsGetOperationResultAndProcessInfo(HcsOperation? operation, out HcsProcessInformation? processInformation,
        out string? resultDocument)
    {
        processInformation = null;
        resultDocument = null;
        if (operation is null || !IsProcessInfoType(operation.Type))
        {
            return HResults.E_INVALIDARG;
        }

        return operation.GetResult(out resultDocument, out processInformation);
    }

    /// <summary>Waits for the operation; <c>HCS_E_OPERATION_TIMEOUT</c> after <paramref name="timeoutMs"/> (the work continues).</summary>
    public static int HcsWaitForOperationResult(HcsOperation? operation, uint timeoutMs, out string? resultDocument)
    {
        resultDocument = null;
        return operation is null ? HResults.E_INVALIDARG : operation.Wait(timeoutMs, out resultDocument, out _);
    }

    /// <summary>Like <see cref="HcsWaitForOperationResult"/>, plus the process information.</summary>
    public static int HcsWaitForOperationResultAndProcessInfo(HcsOperation? operation, uint timeoutMs,
        out HcsProcessInformation? processInformation, out string? resultDocument)
    {
        processInformation = null;
        resultDocument = null;
        if (operation is null || !IsProcessInfoType(operation.Type))
        {
            return HResults.E_INVALIDARG;
        }

        return operation.Wait(timeoutMs, out resultDocument, out processInformation);
    }

    /// <summary>
    /// Asks the service to stop the tracked call. <c>S_OK</c> when requested (the operation then completes, usually with
    /// <c>ERROR_CANCELLED</c>), <c>S_FALSE</c> if it had already completed, <c>HCS_E_OPERATION_NOT_STARTED</c>, or
    /// <c>HCS_E_OPERATION_ALREADY_CANCELLED</c> if the call was already cancelled (even once that has completed it).
    /// </summary>
    public static int HcsCancelOperation(HcsOperation? operation) => operation?.Cancel() ?? HResults.E_INVALIDARG;

    // ---- compute systems -----------------------------------------------------------------------------------

    /// <summary>Lists systems matching an optional <c>SystemQuery</c>; the result document is a JSON array of <c>Properties</c>.</summary>
    public static int HcsEnumerateComputeSystems(string? query, HcsOperation? operation)
    {
        if (operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        var hr = operation.Reserve(HcsOperationType.Enumerate, null, null);
        if (hr < 0)
        {
            return hr;
        }

        IComputeSession session;
        try
        {
            session = HcsClient.Current.Session;
        }
        catch (Exception e)
        {
            // No service to ask: fail the call and the operation alike instead of leaving the operation pending.
            operation.Fail(e);
            return HcsException.Wrap(e, null).HResult;
        }

        operation.Run(async ct => await session.EnumerateSystemsAsync(query, ct).ConfigureAwait(false));
        return HResults.S_OK;
    }

    /// <summary>
    /// Creates compute system <paramref name="id"/> from a <c>ComputeSystem</c> document and returns its handle at once;
    /// the operation completes when construction finishes. A document that does not parse (<c>HCS_E_INVALID_JSON</c>),
    /// an id in use (<c>HCS_E_SYSTEM_ALREADY_EXISTS</c>) or an invalid id (<c>E_INVALIDARG</c>) fail the call itself,
    /// and the operation carries the same result.
    /// </summary>
    /// <param name="id">The new system's id.</param>
    /// <param name="configuration">The <c>ComputeSystem</c> JSON document.</param>
    /// <param name="operation">Tracks construction.</param>
    /// <param name="securityDescriptor">Reserved; must be null.</param>
    /// <param name="computeSystem">The new handle, or null on failure.</param>
    public static int HcsCreateComputeSystem(string id, string configuration, HcsOperation? operation, object? securityDescriptor,
        out HcsSystem? computeSystem)
    {
        computeSystem = null;
        if (operation is null || id is null || configuration is null || securityDescriptor is not null)
        {
            return HResults.E_INVALIDARG;
        }

        return CreateAndRun(id, configuration, operation, null, out computeSystem);
    }

    /// <summary>
    /// The create both create functions share: reserves <paramref name="operation"/>, creates the system, then runs
    /// <paramref name="attach"/> (when given) on the new handle before the create's completion can run. A failing
    /// <paramref name="attach"/> closes the new handle and fails the call and the operation with its HRESULT.
    /// </summary>
    private static int CreateAndRun(string id, string configuration, HcsOperation operation, Func<HcsSystem, int>? attach,
        out HcsSystem? computeSystem)
    {
        computeSystem = null;
        var hr = operation.Reserve(HcsOperationType.Create, null, null);
        if (hr < 0)
        {
            return hr;
        }

        ISystemHandle handle;
        try
        {
            handle = Blocking.Run(HcsClient.Current.Session.CreateSystemAsync(id, configuration));
        }
        catch (Exception e)
        {
            operation.Fail(e);
            return HcsException.Wrap(e, null).HResult;
        }

        var system = new HcsSystem(handle);
        hr = attach?.Invoke(system) ?? HResults.S_OK;
        if (hr < 0)
        {
            system.Dispose();
            operation.Fail(new HcsException(hr, OperationLabels.CreateSystem, id));
            return hr;
        }

        computeSystem = system;
        operation.Run(async ct =>
        {
            await handle.WaitForCreatedAsync(ct).ConfigureAwait(false);
            return null;
        });
        return HResults.S_OK;
    }

    /// <summary>Opens a new handle to an existing system (synchronous). Unknown id → <c>HCS_E_SYSTEM_NOT_FOUND</c>.</summary>
    public static int HcsOpenComputeSystem(string id, uint requestedAccess, out HcsSystem? computeSystem)
    {
        computeSystem = null;
        if (id is null)
        {
            return HResults.E_INVALIDARG;
        }

        if (requestedAccess != GENERIC_ALL)
        {
            return HResults.E_ACCESSDENIED;
        }

        try
        {
            computeSystem = new HcsSystem(Blocking.Run(HcsClient.Current.Session.OpenSystemAsync(id)));
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return HcsException.Wrap(e, OperationLabels.OpenSystem, id).HResult;
        }
    }

    /// <summary>Closes a system handle; see <see cref="HcsSystem.Dispose"/>.</summary>
    public static void HcsCloseComputeSystem(HcsSystem? computeSystem) => computeSystem?.Dispose();

    /// <summary>Starts a created system.</summary>
    public static int HcsStartComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Start, (h, ct) => h.StartAsync(options, ct));

    /// <summary>Asks the guest to shut down; the operation completes when the system has stopped.</summary>
    public static int HcsShutDownComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Shutdown, (h, ct) => h.ShutDownAsync(options, ct));

    /// <summary>Forcibly stops the system (ForcedExit).</summary>
    public static int HcsTerminateComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Terminate, (h, ct) => h.TerminateAsync(options, ct));

    /// <summary>Makes the guest crash (<c>CrashOptions</c>).</summary>
    public static int HcsCrashComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Crash, (h, ct) => h.CrashAsync(options, ct));

    /// <summary>Pauses a running system (<c>PauseOptions</c>).</summary>
    public static int HcsPauseComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Pause, (h, ct) => h.PauseAsync(options, ct));

    /// <summary>Resumes a paused system.</summary>
    public static int HcsResumeComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Resume, (h, ct) => h.ResumeAsync(options, ct));

    /// <summary>Saves a paused system (<c>SaveOptions</c>).</summary>
    public static int HcsSaveComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string? options) =>
        Submit(computeSystem, operation, HcsOperationType.Save, (h, ct) => h.SaveAsync(options, ct));

    /// <summary>Queries properties (<c>System_PropertyQuery</c>); the result document is a <c>Properties</c>.</summary>
    public static int HcsGetComputeSystemProperties(HcsSystem? computeSystem, HcsOperation? operation, string? propertyQuery) =>
        Submit(computeSystem, operation, HcsOperationType.GetProperties, async (h, ct) => await h.GetPropertiesAsync(propertyQuery, ct).ConfigureAwait(false));

    /// <summary>Applies a <c>ModifySettingRequest</c>. <paramref name="identity"/> is reserved and must be null.</summary>
    public static int HcsModifyComputeSystem(HcsSystem? computeSystem, HcsOperation? operation, string configuration, object? identity) =>
        identity is not null || configuration is null
            ? HResults.E_INVALIDARG
            : Submit(computeSystem, operation, HcsOperationType.Modify, (h, ct) => h.ModifyAsync(configuration, ct));

    /// <summary>Waits until the system exits; the result is its <c>SystemExitStatus</c>. Timeout → <c>HCS_E_OPERATION_TIMEOUT</c>.</summary>
    public static int HcsWaitForComputeSystemExit(HcsSystem? computeSystem, uint timeoutMs, out string? result)
    {
        result = null;
        if (computeSystem is null)
        {
            return HResults.E_INVALIDARG;
        }

        Task<string> wait;
        try
        {
            wait = computeSystem.Handle.WaitForExitAsync();
        }
        catch (Exception e)
        {
            return HcsException.Wrap(e, OperationLabels.WaitForSystemExit, computeSystem.Id).HResult;
        }

        if (!Blocking.Wait(wait, timeoutMs))
        {
            return HResults.HCS_E_OPERATION_TIMEOUT;
        }

        if (wait.IsCompletedSuccessfully)
        {
            result = wait.Result;
            return HResults.S_OK;
        }

        var error = HcsException.Wrap(wait.Exception!.InnerException!, OperationLabels.WaitForSystemExit, computeSystem.Id);
        result = HcsJson.Serialize(error.Result);
        return error.HResult;
    }

    /// <summary>
    /// Registers the handle's event callback (once per handle; a second → <c>HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET</c>).
    /// With <see cref="HcsEventOptions.EnableOperationCallbacks"/>, operations bound to this handle complete through
    /// <see cref="HcsEventType.OperationCallback"/> and operations with their own callback are refused.
    /// </summary>
    public static int HcsSetComputeSystemCallback(HcsSystem? computeSystem, HcsEventOptions callbackOptions, object? context,
        HcsEventCallback? callback)
    {
        if (computeSystem is null || callback is null)
        {
            return HResults.E_INVALIDARG;
        }

        return computeSystem.SetCallback(callbackOptions, context, callback);
    }

    /// <summary>Answers a <c>Service_PropertyQuery</c> (synchronous); on failure the result is a <c>ResultError</c>.</summary>
    public static int HcsGetServiceProperties(string? propertyQuery, out string? result)
    {
        try
        {
            result = Blocking.Run(HcsClient.Current.Session.GetServicePropertiesAsync(propertyQuery));
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            var error = HcsException.Wrap(e, OperationLabels.GetServiceProperties);
            result = HcsJson.Serialize(error.Result);
            return error.HResult;
        }
    }

    /// <summary>
    /// Files a crash report (synchronous, like computecore's): <paramref name="settings"/> is a <c>CrashReport</c>
    /// document, typically the EventData of a <see cref="HcsEventType.SystemCrashReport"/> event. On Linux the service
    /// writes it to its crash directory (<c>EngineOptions.CrashDirectory</c>) instead of Windows Error Reporting.
    /// Returns <c>S_OK</c>; <c>HCS_E_INVALID_JSON</c> for a malformed report or one without a valid <c>SystemId</c>;
    /// <c>E_ACCESSDENIED</c> when the crash directory is not writable.
    /// </summary>
    public static int HcsSubmitWerReport(string? settings)
    {
        try
        {
            Blocking.Run(HcsClient.Current.Session.SubmitWerReportAsync(settings!));
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return HcsException.Wrap(e, OperationLabels.SubmitWerReport).HResult;
        }
    }

    private static int Submit(HcsSystem? computeSystem, HcsOperation? operation, HcsOperationType type,
        Func<ISystemHandle, CancellationToken, Task> work) =>
        Submit(computeSystem, operation, type, async (h, ct) =>
        {
            await work(h, ct).ConfigureAwait(false);
            return null;
        });

    private static int Submit(HcsSystem? computeSystem, HcsOperation? operation, HcsOperationType type,
        Func<ISystemHandle, CancellationToken, Task<string?>> work)
    {
        if (computeSystem is null || operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        if (computeSystem.IsClosed)
        {
            return HResults.E_HANDLE;
        }

        var hr = operation.Reserve(type, computeSystem, null);
        if (hr < 0)
        {
            return hr;
        }

        var handle = computeSystem.Handle;
        operation.Run(ct => work(handle, ct));
        return HResults.S_OK;
    }

    private static bool IsProcessInfoType(HcsOperationType type) =>
        type is HcsOperationType.CreateProcess or HcsOperationType.GetProcessInfo;
}
