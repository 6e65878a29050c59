// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

public static partial class ComputeCore
{
    /// <summary>
    /// Starts a process (<c>ProcessParameters</c>) in a running system and returns its handle at once; the operation
    /// completes when it has started, and <see cref="HcsWaitForOperationResultAndProcessInfo"/> then gives its id and stdio.
    /// </summary>
    public static int HcsCreateProcess(HcsSystem? computeSystem, string processParameters, HcsOperation? operation, object? securityDescriptor,
        out HcsProcess? process)
    {
        process = null;
        if (computeSystem is null || operation is null || processParameters is null || securityDescriptor is not null)
        {
            return HResults.E_INVALIDARG;
        }

        if (computeSystem.IsClosed)
        {
            return HResults.E_HANDLE;
        }

        var created = new HcsProcess(computeSystem, null);
        var hr = operation.Reserve(HcsOperationType.CreateProcess, null, created);
        if (hr < 0)
        {
            return hr;
        }

        process = created;
        var handle = computeSystem.Handle;
        operation.Run(async ct =>
        {
            created.Handle = await handle.CreateProcessAsync(processParameters, ct).ConfigureAwait(false);
            return null;
        }, () => Information(created));
        return HResults.S_OK;
    }

    /// <summary>Opens a new handle to process <paramref name="processId"/> (synchronous). Unknown → <c>ERROR_NOT_FOUND</c>.</summary>
    public static int HcsOpenProcess(HcsSystem? computeSystem, uint processId, uint requestedAccess, out HcsProcess? process)
    {
        process = null;
        if (computeSystem is null)
        {
            return HResults.E_INVALIDARG;
        }

        if (requestedAccess != GENERIC_ALL)
        {
            return HResults.E_ACCESSDENIED;
        }

        try
        {
            process = new HcsProcess(computeSystem, Blocking.Run(computeSystem.Handle.OpenProcessAsync(processId)));
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return HcsException.Wrap(e, OperationLabels.OpenProcess, computeSystem.Id, processId).HResult;
        }
    }

    /// <summary>Closes a process handle (never kills the process).</summary>
    public static void HcsCloseProcess(HcsProcess? process) => process?.Dispose();

    /// <summary>Kills the process. Already exited → <c>HCS_E_PROCESS_ALREADY_STOPPED</c> (through the operation).</summary>
    public static int HcsTerminateProcess(HcsProcess? process, HcsOperation? operation, string? options) =>
        options is not null
            ? HResults.E_INVALIDARG
            : SubmitProcess(process, operation, HcsOperationType.SignalProcess, (h, ct) => h.TerminateAsync(ct));

    /// <summary>Sends a signal (<c>SignalProcessOptions</c>: a ProcessSignal name or a POSIX number).</summary>
    public static int HcsSignalProcess(HcsProcess? process, HcsOperation? operation, string? options) =>
        SubmitProcess(process, operation, HcsOperationType.SignalProcess, (h, ct) => h.SignalAsync(options, ct));

    /// <summary>Gets the process information (id and the stdio streams, on the handle that created the process).</summary>
    public static int HcsGetProcessInfo(HcsProcess? process, HcsOperation? operation)
    {
        if (process?.Handle is null || operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        var hr = operation.Reserve(HcsOperationType.GetProcessInfo, null, process);
        if (hr < 0)
        {
            return hr;
        }

        operation.Run(_ => Task.FromResult<string?>(null), () => Information(process));
        return HResults.S_OK;
    }

    /// <summary>Gets the <c>ProcessStatus</c> document.</summary>
    public static int HcsGetProcessProperties(HcsProcess? process, HcsOperation? operation, string? propertyQuery) =>
        SubmitProcess(process, operation, HcsOperationType.GetProcessProperties,
            async (h, ct) => await h.GetPropertiesAsync(propertyQuery, ct).ConfigureAwait(false));

    /// <summary>Applies a <c>ProcessModifyRequest</c>: close stdin (the process reads EOF) or resize the console.</summary>
    public static int HcsModifyProcess(HcsProcess? process, HcsOperation? operation, string settings) =>
        settings is null
            ? HResults.E_INVALIDARG
            : SubmitProcess(process, operation, HcsOperationType.ModifyProcess, (h, ct) => h.ModifyAsync(settings, ct));

    /// <summary>Registers the process handle's event callback (<c>ProcessExited</c>, <c>ServiceDisconnect</c>).</summary>
    public static int HcsSetProcessCallback(HcsProcess? process, HcsEventOptions callbackOptions, object? context, HcsEventCallback? callback)
    {
        if (process is null || callback is null)
        {
            return HResults.E_INVALIDARG;
        }

        return process.SetCallback(callbackOptions, context, callback);
    }

    /// <summary>Waits until the process exits; the result is its <c>ProcessStatus</c>. Timeout → <c>HCS_E_OPERATION_TIMEOUT</c>.</summary>
    public static int HcsWaitForProcessExit(HcsProcess? process, uint timeoutMs, out string? result)
    {
        result = null;
        var handle = process?.Handle;
        if (handle is null)
        {
            return HResults.E_INVALIDARG;
        }

        var wait = handle.WaitForExitAsync();
        if (!Blocking.Wait(wait, timeoutMs))
        {
            return HResults.HCS_E_OPERATION_TIMEOUT;
        }

        if (wait.IsCompletedSuccessfully)
        {
            result = wait.Result;
            return HResults.S_OK;
        }

        var error = HcsException.Wrap(wait.Exception!.InnerException!, OperationLabels.WaitForProcessExit);
        result = HcsJson.Serialize(error.Result);
        return error.HResult;
    }

    private static HcsProcessInformation? Information(HcsProcess process)
    {
        var handle = process.Handle;
        if (handle is null)
        {
            return null;
        }

        var stdio = handle.Stdio;
        return new HcsProcessInformation(handle.ProcessId, stdio?.StdIn, stdio?.StdOut, stdio?.StdErr);
    }

    private static int SubmitProcess(HcsProcess? process, HcsOperation? operation, HcsOperationType type,
        Func<IProcessHandle, CancellationToken, Task> work) =>
        SubmitProcess(process, operation, type, async (h, ct) =>
        {
            await work(h, ct).ConfigureAwait(false);
            return null;
        });

    private static int SubmitProcess(HcsProcess? process, HcsOperation? operation, HcsOperationType type,
        Func<IProcessHandle, CancellationToken, Task<string?>> work)
    {
        var handle = process?.Handle;
        if (handle is null || operation is null)
        {
            return HResults.E_INVALIDARG;
        }

        var hr = operation.Reserve(type, null, process);
        if (hr < 0)
        {
            return hr;
        }

        operation.Run(ct => work(handle, ct));
        return HResults.S_OK;
    }
}
