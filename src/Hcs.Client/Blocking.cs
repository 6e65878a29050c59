// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// The one place the synchronous computecore-shaped API blocks on asynchronous work. computecore's own calls
/// (HcsOpenComputeSystem, HcsWaitForOperationResult, HcsCloseComputeSystem) are blocking by contract.
/// </summary>
internal static class Blocking
{
#pragma warning disable VSTHRD002 // Synchronously waiting: this is the blocking C-shaped API by design.
    public static void Run(Task task) => task.GetAwaiter().GetResult();

    public static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    /// <summary>Waits at most <paramref name="timeoutMs"/> (0xFFFFFFFF = INFINITE); false on timeout.</summary>
    public static bool Wait(Task task, uint timeoutMs)
    {
        if (timeoutMs == ComputeCore.INFINITE)
        {
            ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
            return true;
        }

        return ((IAsyncResult)task).AsyncWaitHandle.WaitOne(TimeSpan.FromMilliseconds(timeoutMs));
    }
#pragma warning restore VSTHRD002

    /// <summary>Runs <paramref name="call"/> and turns an <see cref="HcsException"/> into its HRESULT.</summary>
    public static int Hr(Action call)
    {
        try
        {
            call();
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return HcsException.Wrap(e, null).HResult;
        }
    }
}
