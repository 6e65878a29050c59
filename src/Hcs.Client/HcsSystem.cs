// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client;

/// <summary>
/// An <c>HCS_SYSTEM</c> handle. Disposing it is <c>HcsCloseComputeSystem</c>: delivery stops, a callback in flight is
/// waited for (except from inside that callback), and the system keeps running unless this was its last handle and
/// it was created with <c>ShouldTerminateOnLastHandleClosed</c>.
/// </summary>
public sealed class HcsSystem : IDisposable
{
    private readonly CallbackSlot _callback = new();

    internal HcsSystem(Contracts.ISystemHandle handle)
    {
        Handle = handle;
    }

    /// <summary>The system's id.</summary>
    public string Id => Handle.Id;

    internal Contracts.ISystemHandle Handle { get; }

    internal bool IsClosed => _callback.IsClosed;

    internal bool DeliversOperationCallbacks => _callback.DeliversOperationCallbacks;

    internal int SetCallback(Schema.HcsEventOptions options, object? context, HcsEventCallback callback) =>
        _callback.Set(options, context, callback, () => Handle.ReadEventsAsync());

    internal void PostOperationCallback(HcsOperation operation) => _callback.PostOperationCallback(operation);

    /// <summary>Closes the handle (<c>HcsCloseComputeSystem</c>).</summary>
    public void Dispose()
    {
        if (!_callback.TryClose(out var dispatcher))
        {
            return;
        }

        // Close the service handle first so the event stream ends, then drain the callback in flight.
        Blocking.Run(Handle.DisposeAsync().AsTask());
        dispatcher?.Close();
    }
}
