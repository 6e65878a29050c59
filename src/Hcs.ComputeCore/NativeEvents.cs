// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Client;

namespace Hcs.ComputeCore;

/// <summary>
/// <c>HCS_EVENT_CALLBACK</c> for systems and processes: the C function and context travel as the managed callback's
/// context, and each event is handed over as an <c>HCS_EVENT</c> on the dispatcher thread the C# layer runs it on
/// (per handle, in order, under no lock). <c>EventData</c> lives for the duration of the call only.
/// </summary>
internal static unsafe class NativeEvents
{
    /// <summary>The managed callback that forwards to a <see cref="Binding"/>.</summary>
    public static readonly HcsEventCallback Forward = Deliver;

    /// <summary>The context object for <see cref="Forward"/>.</summary>
    public static object Bind(nint context, nint callback) => new Binding(context, callback);

    private static void Deliver(HcsEvent hcsEvent, object? context)
    {
        if (context is not Binding { Callback: not 0 } binding)
        {
            return;
        }

        var data = NativeStrings.Allocate(hcsEvent.EventData);
        try
        {
            var native = new HcsEventNative
            {
                Type = (uint)hcsEvent.Type,
                EventData = data,
                Operation = NativeHandles.HandleOf(hcsEvent.Operation),
            };
            ((delegate* unmanaged<HcsEventNative*, nint, void>)binding.Callback)(&native, binding.Context);
        }
        finally
        {
            NativeMemory.Free((void*)data);
        }
    }

    /// <summary><c>HCS_EVENT</c> (24 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct HcsEventNative
    {
        public uint Type;
        public nint EventData;
        public nint Operation;
    }

    private sealed record Binding(nint Context, nint Callback);
}
