// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using Hcs.Contracts;
using Hcs.Schema;
using SchemaComputeSystem = Hcs.Schema.ComputeSystem;

namespace Hcs.Client;

/// <summary>
/// The idiomatic async API over one compute system handle: typed documents in, typed documents out,
/// <see cref="HcsException"/> on failure, events as an <see cref="IAsyncEnumerable{T}"/>. Disposing closes the handle
/// (terminating the system only if it was the last handle and <c>ShouldTerminateOnLastHandleClosed</c> is set).
/// Cancelling a token stops the wait and asks the service to stop the work.
/// </summary>
public sealed class ComputeSystem : IAsyncDisposable
{
    private readonly ISystemHandle _handle;

    private ComputeSystem(ISystemHandle handle)
    {
        _handle = handle;
    }

    /// <summary>The system's id.</summary>
    public string Id => _handle.Id;

    /// <summary>Creates system <paramref name="id"/> from <paramref name="document"/> and waits until it is constructed (state Created).</summary>
    public static Task<ComputeSystem> CreateAsync(HcsClient client, string id, SchemaComputeSystem document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        return CreateAsync(client, id, HcsJson.Serialize(document), cancellationToken);
    }

    /// <summary>Creates system <paramref name="id"/> from a JSON <c>ComputeSystem</c> document and waits until it is constructed.</summary>
    public static async Task<ComputeSystem> CreateAsync(HcsClient client, string id, string document, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var handle = await client.Session.CreateSystemAsync(id, document, cancellationToken).ConfigureAwait(false);
        try
        {
            await handle.WaitForCreatedAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await handle.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ComputeSystem(handle);
    }

    /// <summary>Opens a new handle to system <paramref name="id"/>. Unknown → <c>HCS_E_SYSTEM_NOT_FOUND</c>.</summary>
    public static async Task<ComputeSystem> OpenAsync(HcsClient client, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ComputeSystem(await client.Session.OpenSystemAsync(id, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Lists systems matching <paramref name="query"/> (all when null).</summary>
    public static async Task<IReadOnlyList<Properties>> EnumerateAsync(HcsClient client, SystemQuery? query = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var json = await client.Session.EnumerateSystemsAsync(query is null ? null : HcsJson.Serialize(query), cancellationToken)
            .ConfigureAwait(false);
        return HcsJson.Deserialize<IReadOnlyList<Properties>>(json);
    }

    /// <summary>
    /// Files <paramref name="report"/> (from a <see cref="HcsEventType.SystemCrashReport"/> event) with the service's
    /// crash reporting, <c>HcsSubmitWerReport</c>; returns the path of the filed report on the service's host.
    /// No valid <c>SystemId</c> → <c>HCS_E_INVALID_JSON</c>; crash directory not writable → <c>E_ACCESSDENIED</c>.
    /// </summary>
    public static Task<string> SubmitWerReportAsync(HcsClient client, CrashReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        return SubmitWerReportAsync(client, HcsJson.Serialize(report), cancellationToken);
    }

    /// <summary>Files a <c>CrashReport</c> JSON document (e.g. an event's EventData as received); see the typed overload.</summary>
    public static Task<string> SubmitWerReportAsync(HcsClient client, string report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.Session.SubmitWerReportAsync(report, cancellationToken);
    }

    /// <summary>Created → Running.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _handle.StartAsync(null, cancellationToken);

    /// <summary>Asks the guest to shut down and waits until the system has stopped.</summary>
    public Task ShutDownAsync(ShutdownOptions? options = null, CancellationToken cancellationToken = default) =>
        _handle.ShutDownAsync(Json(options), cancellationToken);

    /// <summary>Forcibly stops the system.</summary>
    public Task TerminateAsync(CancellationToken cancellationToken = default) => _handle.TerminateAsync(null, cancellationToken);

    /// <summary>Running → Paused.</summary>
    public Task PauseAsync(PauseOptions? options = null, CancellationToken cancellationToken = default) =>
        _handle.PauseAsync(Json(options), cancellationToken);

    /// <summary>Paused → Running.</summary>
    public Task ResumeAsync(CancellationToken cancellationToken = default) => _handle.ResumeAsync(null, cancellationToken);

    /// <summary>Saves a paused system.</summary>
    public Task SaveAsync(SaveOptions options, CancellationToken cancellationToken = default) =>
        _handle.SaveAsync(Json(options ?? throw new ArgumentNullException(nameof(options))), cancellationToken);

    /// <summary>Makes the guest crash.</summary>
    public Task CrashAsync(CrashOptions? options = null, CancellationToken cancellationToken = default) =>
        _handle.CrashAsync(Json(options), cancellationToken);

    /// <summary>Applies a modify request.</summary>
    public Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken = default) =>
        _handle.ModifyAsync(Json(request ?? throw new ArgumentNullException(nameof(request)))!, cancellationToken);

    /// <summary>Queries properties: the basic ones plus <paramref name="types"/>.</summary>
    public async Task<Properties> GetPropertiesAsync(IEnumerable<SystemPropertyType>? types = null, CancellationToken cancellationToken = default)
    {
        var list = types?.ToList();
        var query = list is { Count: > 0 } ? HcsJson.Serialize(new SystemPropertyQuery { PropertyTypes = list }) : null;
        var json = await _handle.GetPropertiesAsync(query, cancellationToken).ConfigureAwait(false);
        return HcsJson.Deserialize<Properties>(json);
    }

    /// <summary>Waits until the system exits and returns how.</summary>
    public async Task<SystemExitStatus> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var json = await _handle.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return HcsJson.Deserialize<SystemExitStatus>(json);
    }

    /// <summary>
    /// This handle's events from now on, in order, ending after <c>SystemExited</c>'s stream closes with the handle,
    /// or with <c>ServiceDisconnect</c>. One subscription per handle (a second → <c>HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET</c>).
    /// </summary>
    public async IAsyncEnumerable<HcsEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var record in _handle.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return new HcsEvent(record.Type, record.EventData);
        }
    }

    /// <summary>Starts a process in the (running) system.</summary>
    public async Task<ComputeProcess> CreateProcessAsync(ProcessParameters parameters, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return new ComputeProcess(await _handle.CreateProcessAsync(HcsJson.Serialize(parameters), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Opens a new handle to process <paramref name="processId"/>. Unknown → <c>ERROR_NOT_FOUND</c>.</summary>
    public async Task<ComputeProcess> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default) =>
        new(await _handle.OpenProcessAsync(processId, cancellationToken).ConfigureAwait(false));

    /// <summary>Closes the handle.</summary>
    public ValueTask DisposeAsync() => _handle.DisposeAsync();

    private static string? Json<T>(T? value) where T : class => value is null ? null : HcsJson.Serialize(value);
}
