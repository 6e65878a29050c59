// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

namespace Hcs.ComputeCore;

/// <summary>
/// An <c>HCS_OPERATION</c>: a handle over a <see cref="HcsOperation"/>, whose rules (one call at a time, callbacks on
/// dispatcher threads, close from inside the callback, close waiting for a callback on another thread) it inherits.
/// The C context and completion function travel together as the managed operation's context, so a completion always
/// sees the pair that was set together.
/// </summary>
internal sealed unsafe class NativeOperation
{
    private static readonly HcsOperationCompletion s_complete = Complete;

    private NativeOperation(HcsOperation managed) => Managed = managed;

    /// <summary>The managed operation.</summary>
    public HcsOperation Managed { get; }

    /// <summary>This operation's handle.</summary>
    public nint Handle { get; private set; }

    /// <summary>The caller's context (<c>HcsGetOperationContext</c>).</summary>
    public nint Context => (HcsGetOperationContext(Managed) as Binding)?.Context ?? 0;

    /// <summary>
    /// A new operation with an optional completion callback: an <c>HCS_OPERATION_COMPLETION</c>, or, when
    /// <paramref name="events"/> is set (<c>HcsCreateOperationWithNotifications</c>), an <c>HCS_EVENT_CALLBACK</c> that
    /// gets the completion as an <c>HcsEventOperationCallback</c> event.
    /// </summary>
    public static NativeOperation Create(nint context, nint callback, bool events = false)
    {
        var managed = HcsCreateOperation(new Binding(context, callback, events), callback == 0 ? null : s_complete);
        var op = new NativeOperation(managed);
        op.Handle = NativeHandles.Add(op, managed);
        return op;
    }

    /// <summary>The live operation behind <paramref name="handle"/>, or null.</summary>
    public static NativeOperation? From(nint handle) => NativeHandles.Get<NativeOperation>(handle);

    /// <summary>The managed operation behind <paramref name="handle"/>, or null.</summary>
    public static HcsOperation? ManagedFrom(nint handle) => From(handle)?.Managed;

    /// <summary>
    /// <c>HcsCloseOperation</c>: closes the managed operation first (it waits for a completion running on another
    /// thread, which may still use this handle), then retires the handle.
    /// </summary>
    public static void Close(nint handle)
    {
        if (From(handle) is not { } op)
        {
            return;
        }

        HcsCloseOperation(op.Managed);
        NativeHandles.Remove<NativeOperation>(handle);
    }

    /// <summary><c>HcsSetOperationContext</c>: keeps the callback.</summary>
    public void SetContext(nint context)
    {
        var binding = HcsGetOperationContext(Managed) as Binding;
        var callback = binding?.Callback ?? 0;
        HcsSetOperationCallback(Managed, new Binding(context, callback, binding?.Events ?? false), callback == 0 ? null : s_complete);
    }

    /// <summary><c>HcsSetOperationCallback</c>.</summary>
    public int SetCallback(nint context, nint callback) =>
        HcsSetOperationCallback(Managed, new Binding(context, callback), callback == 0 ? null : s_complete);

    private static void Complete(HcsOperation operation, object? context)
    {
        if (context is not Binding { Callback: not 0 } binding)
        {
            return;
        }

        var handle = NativeHandles.HandleOf(operation);
        if (binding.Events)
        {
            OperationEvents.DeliverCompletion(binding.Callback, binding.Context, handle);
            return;
        }

        ((delegate* unmanaged<nint, nint, void>)binding.Callback)(handle, binding.Context);
    }

    /// <summary>The C context and completion function, set together; <c>Events</c>: the function is an <c>HCS_EVENT_CALLBACK</c>.</summary>
    private sealed record Binding(nint Context, nint Callback, bool Events = false);
}
