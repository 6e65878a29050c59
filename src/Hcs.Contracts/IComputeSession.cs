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
}
