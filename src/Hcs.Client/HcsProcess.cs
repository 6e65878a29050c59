// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// An <c>HCS_PROCESS</c> handle. Disposing it is <c>HcsCloseProcess</c>: it stops event delivery (waiting for a callback
/// in flight) and never kills the process.
/// </summary>
public sealed class HcsProcess : IDisposable
{
    private readonly Lock _gate = new();
    private CallbackDispatcher? _dispatcher; // guarded by _gate
    private HcsEventOptions _options; // guarded by _gate
    private bool _closed; // guarded by _gate
    private IProcessHandle? _handle; // guarded by _gate

    internal HcsProcess(HcsSystem system, IProcessHandle? handle)
    {
        System = system;
        _handle = handle;
    }

    /// <summary>The system the process runs in.</summary>
    public HcsSystem System { get; }

    /// <summary>The process id, once known.</summary>
    public uint ProcessId => Handle?.ProcessId ?? 0;

    internal IProcessHandle? Handle
    {
        get
        {
            lock (_gate)
            {
                return _handle;
            }
        }

        set
        {
            lock (_gate)
            {
                _handle = value;
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
            if (_closed || _handle is null)
            {
                return HResults.E_HANDLE;
            }

            if (_dispatcher is not null)
            {
                return HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET;
            }

            _options = options;
            _dispatcher = new CallbackDispatcher(callback, context, _handle.ReadEventsAsync());
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

    /// <summary>Closes the handle (<c>HcsCloseProcess</c>).</summary>
    public void Dispose()
    {
        CallbackDispatcher? dispatcher;
        IProcessHandle? handle;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            dispatcher = _dispatcher;
            handle = _handle;
        }

        if (handle is not null)
        {
            Blocking.Run(handle.DisposeAsync().AsTask());
        }

        dispatcher?.Close();
    }
}
