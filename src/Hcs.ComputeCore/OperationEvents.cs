// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// The events of an operation made by <c>HcsCreateOperationWithNotifications</c>: its completion, delivered to its
/// <c>HCS_EVENT_CALLBACK</c> as <c>HCS_EVENT{Type = HcsEventOperationCallback, EventData = NULL, Operation = op}</c> on
/// the thread the C# layer completes it on. No hcs operation reports progress, so
/// <c>HcsOperationOptionProgressUpdate</c> is accepted and never produces an <c>HcsEventGroupOperationInfo</c> event.
/// </summary>
internal static unsafe class OperationEvents
{
    /// <summary><c>HcsOperationOptionProgressUpdate</c>.</summary>
    public const uint ProgressUpdate = 1;

    /// <summary>Calls <paramref name="callback"/> with the completion event of <paramref name="operation"/>.</summary>
    public static void DeliverCompletion(nint callback, nint context, nint operation)
    {
        var e = new HcsEventNative { Type = (uint)HcsEventType.OperationCallback, EventData = 0, Operation = operation };
        ((delegate* unmanaged<HcsEventNative*, nint, void>)callback)(&e, context);
    }

    /// <summary><c>HCS_EVENT</c> (24 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct HcsEventNative
    {
        public uint Type;
        public nint EventData;
        public nint Operation;
    }
}
