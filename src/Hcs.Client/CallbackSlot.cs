// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// The event-callback side of a flat-API handle (<see cref="HcsSystem"/>, <see cref="HcsProcess"/>): at most one
/// callback, its options, the dispatcher that runs it, and the handle's closed flag.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "TryClose hands the dispatcher to the owning handle, which closes it after the service handle.")]
internal sealed class CallbackSlot
{
    private readonly Lock _gate = new();
    private CallbackDispatcher? _dispatcher; // guarded by _gate
    private HcsEventOptions _options; // guarded by _gate
    private bool _closed; // guarded by _gate

    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    /// <summary>True when a callback with <see cref="HcsEventOptions.EnableOperationCallbacks"/> is registered.</summary>
    public bool DeliversOperationCallbacks
    {
        get
        {
            lock (_gate)
            {
                return _dispatcher is not null && (_options & HcsEventOptions.EnableOperationCallbacks) != 0;
            }
        }
    }

    /// <summary>
    /// Registers the callback over the events <paramref name="subscribe"/> returns. Unsupported options →
    /// <c>ERROR_NOT_SUPPORTED</c>; closed → <c>E_HANDLE</c>; a second callback → <c>HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET</c>.
    /// </summary>
    public int Set(HcsEventOptions options, object? context, HcsEventCallback callback, Func<IAsyncEnumerable<HcsEventRecord>?> subscribe)
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

            IAsyncEnumerable<HcsEventRecord>? source;
            try
            {
                source = subscribe();
            }
            catch (Exception e)
            {
                return HcsException.Wrap(e, null).HResult;
            }

            if (source is null)
            {
                return HResults.E_HANDLE;
            }

            _options = options;
            _dispatcher = new CallbackDispatcher(callback, context, source);
            return HResults.S_OK;
        }
    }

    /// <summary>Delivers <see cref="HcsEventType.OperationCallback"/> if the callback asked for it.</summary>
    public void PostOperationCallback(HcsOperation operation)
    {
        CallbackDispatcher? dispatcher;
        lock (_gate)
        {
            dispatcher = (_options & HcsEventOptions.EnableOperationCallbacks) != 0 ? _dispatcher : null;
        }

        dispatcher?.Post(new HcsEvent(HcsEventType.OperationCallback, null, operation));
    }

    /// <summary>Marks the handle closed; false if it already was. <paramref name="dispatcher"/> is to be closed after the service handle.</summary>
    public bool TryClose(out CallbackDispatcher? dispatcher)
    {
        lock (_gate)
        {
            dispatcher = _dispatcher;
            if (_closed)
            {
                return false;
            }

            _closed = true;
            return true;
        }
    }
}
