// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Engine.Backends;

/// <summary>
/// One constructed system inside a backend. The engine serialises lifecycle calls (never two at once, except
/// <see cref="TerminateAsync"/>, which may arrive while another call is in flight and must win) and checks the
/// state machine before calling, so a backend never sees an illegal transition.
/// </summary>
public interface IBackendSystem : IAsyncDisposable
{
    /// <summary>Created → Running. Completes when the system runs.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Asks the guest to shut down (ACPI power button, SIGTERM to init). Completion is not exit: the exit is reported through <see cref="IBackendEventSink.Stopped"/>.</summary>
    Task RequestShutdownAsync(ShutdownOptions? options, CancellationToken cancellationToken);

    /// <summary>Forcibly ends the worker; completes when it is gone. Must not hang. Called at most once.</summary>
    Task TerminateAsync(CancellationToken cancellationToken);

    /// <summary>Running → Paused.</summary>
    Task PauseAsync(PauseOptions? options, CancellationToken cancellationToken);

    /// <summary>Paused → Running.</summary>
    Task ResumeAsync(CancellationToken cancellationToken);

    /// <summary>Saves the state of a paused system.</summary>
    Task SaveAsync(SaveOptions options, CancellationToken cancellationToken);

    /// <summary>Makes the guest crash; the crash is then reported through the sink.</summary>
    Task CrashAsync(CrashOptions? options, CancellationToken cancellationToken);

    /// <summary>Applies a modify request; unsupported paths fail with <c>HCS_E_INVALID_JSON</c> naming the path.</summary>
    Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The service is stopping gracefully and the system must keep running: release what ties it to this process
    /// (QMP connection, monitor socket, watchers) without stopping it or removing its runtime directory, so a later
    /// <see cref="IComputeBackend.AdoptAsync"/> finds it. No event is reported afterwards.
    /// </summary>
    ValueTask DetachAsync() => throw new NotSupportedException("this backend cannot detach from a running system");

    /// <summary>
    /// Fills the requested property types it can provide. Types left null are reported to the caller as
    /// <c>PropertyResponses</c> errors by the engine.
    /// </summary>
    Task<BackendProperties> GetPropertiesAsync(IReadOnlySet<SystemPropertyType> types, CancellationToken cancellationToken);
}

/// <summary>What a backend reports for a property query. Null members were not provided.</summary>
public sealed record BackendProperties
{
    /// <summary>The guest OS type, when known.</summary>
    public OsType? RuntimeOsType { get; init; }
    /// <summary>Processor statistics.</summary>
    public ProcessorStats? Processor { get; init; }
    /// <summary>Memory statistics.</summary>
    public MemoryStats? MemoryStats { get; init; }
    /// <summary>Storage statistics.</summary>
    public StorageStats? Storage { get; init; }
    /// <summary>VM memory information (<c>Memory</c> property type).</summary>
    public MemoryInformationForVm? Memory { get; init; }
    /// <summary>Process list.</summary>
    public IReadOnlyList<ProcessDetails>? ProcessList { get; init; }
    /// <summary>Guest connection information.</summary>
    public GuestConnectionInfo? GuestConnection { get; init; }
}
