// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Contracts;

/// <summary>A client's connection to the compute service. Disposing it closes every handle it opened.</summary>
public interface IComputeSession : IAsyncDisposable
{
    /// <summary>The client this session belongs to.</summary>
    ClientIdentity Client { get; }

    /// <summary>Cancelled when the service side goes away (service disconnect). Never cancelled by the client itself.</summary>
    CancellationToken Disconnected { get; }

    /// <summary>
    /// Registers compute system <paramref name="id"/> from <paramref name="configuration"/> (a <c>ComputeSystem</c> document)
    /// and returns a handle at once; construction continues and is observed with
    /// <see cref="ISystemHandle.WaitForCreatedAsync"/>. Invalid JSON → <c>HCS_E_INVALID_JSON</c>;
    /// an id in use → <c>HCS_E_SYSTEM_ALREADY_EXISTS</c>.
    /// </summary>
    Task<ISystemHandle> CreateSystemAsync(string id, string configuration, CancellationToken cancellationToken = default);

    /// <summary>Opens a new, independent handle to an existing system. Unknown id → <c>HCS_E_SYSTEM_NOT_FOUND</c>.</summary>
    Task<ISystemHandle> OpenSystemAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Lists systems matching an optional <c>SystemQuery</c>; the result is a JSON array of <c>Properties</c>.</summary>
    Task<string> EnumerateSystemsAsync(string? query, CancellationToken cancellationToken = default);

    /// <summary>Answers a <c>Service_PropertyQuery</c> with a <c>ServiceProperties</c> document.</summary>
    Task<string> GetServicePropertiesAsync(string? query, CancellationToken cancellationToken = default);

    /// <summary>
    /// <c>HcsSubmitWerReport</c>: files <paramref name="settings"/>, a <c>CrashReport</c> document (the EventData of a
    /// <c>SystemCrashReport</c> event), with the service's crash reporting — on Linux, as files in the service's crash
    /// directory. Returns the path of the filed report on the service's host. The system need not exist any more.
    /// Not a <c>CrashReport</c>, unknown members, or no valid <c>SystemId</c> → <c>HCS_E_INVALID_JSON</c> naming the path;
    /// the crash directory not writable → <c>E_ACCESSDENIED</c>.
    /// </summary>
    Task<string> SubmitWerReportAsync(string settings, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lets the user <paramref name="uid"/> open and enumerate the system <paramref name="id"/> (in the spirit of
    /// <c>HcsGrantVmAccess</c>). A system is otherwise visible only to the uid that created it and to root; only
    /// they may grant. Fails with <c>HCS_E_SYSTEM_NOT_FOUND</c> or <c>HCS_E_ACCESS_DENIED</c>.
    /// </summary>
    Task GrantAccessAsync(string id, uint uid, CancellationToken cancellationToken = default);
}
