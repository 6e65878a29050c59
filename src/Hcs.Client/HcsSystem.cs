// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// An <c>HCS_SYSTEM</c> handle. Disposing it is <c>HcsCloseComputeSystem</c>: delivery stops, a callback in flight is
/// waited for (except from inside that callback), and the system keeps running unless this was its last handle and
/// it was created with <c>ShouldTerminateOnLastHandleClosed</c>.
/// </summary>
public sealed class HcsSystem : IDisposable
{
    private readonly Lock _gate = new();
    private CallbackDispatcher? _dispatcher; // guarded by _gate
    private HcsEventOptions _options; // guarded by _gate
    private bool _closed; // guarded by _gate

    internal HcsSystem(ISystemHandle handle)
    {
        Handle = handle;
    }

    /// <summary>The system's id.</summary>
    public string Id => Handle.Id;

    internal ISystemHandle Handle { get; }

    internal bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    internal bool DeliversOperationCallbacks
    {
        get
        {
            lock (_gate)
            {
                return _dispatcher is not null && (_options & HcsEventOptions.EnableOperationCallbacks) != 0;
            }
        }
    }

    internal int SetCallback(HcsEventOptions options, object? context, HcsEventCallback callback)
    {
        if ((options & ~HcsEventOptions.EnableOperationCallbacks) != 0)
        {
            return HResults.ERROR_NOT_SUPPORTED;
        }

        lock (_gate)
        {
            if (_closed)
            {
                return HResults.E_HANDLE;
            }

            if (_dispatcher is not null)
            {
                return HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET;
            }

            IAsyncEnumerable<HcsEventRecord> source;
            try
            {
                source = Handle.ReadEventsAsync();
            }
            catch (Exception e)
            {
                return HcsException.Wrap(e, "ComputeSystem.SetCallback", Id).HResult;
            }

            _options = options;
            _dispatcher = new CallbackDispatcher(callback, context, source);
            return HResults.S_OK;
        }
    }

    internal void PostOperationCallback(HcsOperation operation)
    {
        CallbackDispatcher? dispatcher;
        lock (_gate)
        {
            dispatcher = (_options & HcsEventOptions.EnableOperationCallbacks) != 0 ? _dispatcher : null;
        }

        dispatcher?.Post(new HcsEvent(HcsEventType.OperationCallback, null, operation));
    }

    /// <summary>Closes the handle (<c>HcsCloseComputeSystem</c>).</summary>
    public void Dispose()
    {
        CallbackDispatcher? dispatcher;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            dispatcher = _dispatcher;
        }

        // Close the service handle first so the event stream ends, then drain the callback in flight.
        Blocking.Run(Handle.DisposeAsync().AsTask());
        dispatcher?.Close();
    }
}
