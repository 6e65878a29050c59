// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Contracts;

/// <summary>
/// One handle to a compute system (<c>HCS_SYSTEM</c>). Several handles may refer to one system; each has its own
/// event subscription. Every verb completes or fails deterministically: when the system exits while a verb is
/// pending, the verb fails with an HRESULT derived from the exit; when the service goes away, with
/// <c>HCS_E_SERVICE_DISCONNECT</c>. Cancelling the token asks the service to stop the work (cooperative).
/// </summary>
public interface ISystemHandle : IAsyncDisposable
{
    /// <summary>The system's id.</summary>
    string Id { get; }

    /// <summary>Completes when construction finished; faults with the construction error.</summary>
    Task WaitForCreatedAsync(CancellationToken cancellationToken = default);

    /// <summary>Created → Running. Otherwise <c>HCS_E_INVALID_STATE</c>.</summary>
    Task StartAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Asks the guest to shut down and completes when the system has stopped. Stopped → <c>HCS_E_SYSTEM_ALREADY_STOPPED</c>.</summary>
    Task ShutDownAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Forcibly stops the system (ForcedExit). Stopped → <c>HCS_E_SYSTEM_ALREADY_STOPPED</c>.</summary>
    Task TerminateAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Running → Paused (<c>PauseOptions</c>). Otherwise <c>HCS_E_INVALID_STATE</c>.</summary>
    Task PauseAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Paused → Running. Otherwise <c>HCS_E_INVALID_STATE</c>.</summary>
    Task ResumeAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Saves a paused system (<c>SaveOptions</c>). Otherwise <c>HCS_E_INVALID_STATE</c>.</summary>
    Task SaveAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Makes the guest crash (<c>CrashOptions</c>). Valid only while Running.</summary>
    Task CrashAsync(string? options, CancellationToken cancellationToken = default);

    /// <summary>Applies a <c>ModifySettingRequest</c>.</summary>
    Task ModifyAsync(string request, CancellationToken cancellationToken = default);

    /// <summary>Answers a <c>System_PropertyQuery</c> with a <c>Properties</c> document; valid in every state, including Stopped.</summary>
    Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default);

    /// <summary>Completes with the <c>SystemExitStatus</c> JSON once the system has exited.</summary>
    Task<string> WaitForExitAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts this handle's event subscription (at most once per handle). System events raised from now on are
    /// delivered in order; if the system has already exited, <c>SystemExited</c> is delivered at once.
    /// <c>SystemExited</c> is the last system event; <c>ServiceDisconnect</c> ends the stream when the service goes away.
    /// </summary>
    IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a process in the system (<c>ProcessParameters</c>). The system must be Running.</summary>
    Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken = default);

    /// <summary>Opens a new handle to process <paramref name="processId"/>. Unknown → <c>ERROR_NOT_FOUND</c>.</summary>
    Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default);
}
