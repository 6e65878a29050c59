// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;

namespace Hcs.Client;

/// <summary>
/// An <c>HCS_PROCESS</c> handle. Disposing it is <c>HcsCloseProcess</c>: it stops event delivery (waiting for a callback
/// in flight) and never kills the process.
/// </summary>
public sealed class HcsProcess : IDisposable
{
    private readonly CallbackSlot _callback = new();
    private IProcessHandle? _handle; // set once the create operation has started the process

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
        get => Volatile.Read(ref _handle);
        set => Volatile.Write(ref _handle, value);
    }

    internal bool DeliversOperationCallbacks => _callback.DeliversOperationCallbacks;

    internal int SetCallback(Schema.HcsEventOptions options, object? context, HcsEventCallback callback) =>
        _callback.Set(options, context, callback, () => Handle?.ReadEventsAsync());

    internal void PostOperationCallback(HcsOperation operation) => _callback.PostOperationCallback(operation);

    /// <summary>Closes the handle (<c>HcsCloseProcess</c>).</summary>
    public void Dispose()
    {
        if (!_callback.TryClose(out var dispatcher))
        {
            return;
        }

        if (Handle is { } handle)
        {
            Blocking.Run(handle.DisposeAsync().AsTask());
        }

        dispatcher?.Close();
    }
}
