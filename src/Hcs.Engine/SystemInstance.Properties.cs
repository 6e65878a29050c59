// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

internal sealed partial class SystemInstance
{
    /// <summary>Property types the backend answers (the engine answers TerminateOnLastHandleClosed and the timing part of Statistics).</summary>
    private static readonly HashSet<SystemPropertyType> s_backendTypes =
    [
        SystemPropertyType.Statistics, SystemPropertyType.Memory, SystemPropertyType.ProcessList, SystemPropertyType.GuestConnection,
    ];

    /// <summary>The basic properties: always available, in every state.</summary>
    public Properties BasicProperties()
    {
        lock (_gate)
        {
            return new Properties
            {
                Id = Id,
                SystemType = SystemType,
                RuntimeOsType = SystemType == SystemType.Container ? OsType.Linux : OsType.Unknown,
                Name = Id,
                Owner = Document.Owner,
                RuntimeId = RuntimeId,
                State = StateMachine.ToState(_phase),
                Stopped = _phase == SystemPhase.Stopped,
                ExitType = _exitStatus?.ExitType ?? NotificationType.None,
            };
        }
    }

    /// <summary>SystemQuery: AND across fields, OR within a field; absent fields match everything.</summary>
    public bool Matches(SystemQuery? query)
    {
        if (query is null)
        {
            return true;
        }

        static bool Has(IReadOnlyList<string>? values, string? value) =>
            values is null || values.Count == 0 || (value is not null && values.Contains(value, StringComparer.Ordinal));

        return Has(query.Ids, Id) && Has(query.Names, Id) && Has(query.Types, SystemType.ToString()) && Has(query.Owners, Document.Owner);
    }

    public async Task<Properties> GetPropertiesAsync(string? query, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.GetSystemProperties;
        var parsed = Parse<SystemPropertyQuery>(query, Label);
        await WaitConstructedAsync(Label, cancellationToken).ConfigureAwait(false);
        var types = new HashSet<SystemPropertyType>(parsed?.PropertyTypes ?? []);
        var properties = BasicProperties();
        if (types.Count == 0)
        {
            return properties;
        }

        IBackendSystem? backend;
        DateTimeOffset? startedAt, stoppedAt;
        lock (_gate)
        {
            backend = _phase == SystemPhase.Stopped ? null : _backend;
            startedAt = _startedAt;
            stoppedAt = _stoppedAt;
        }

        var asked = new HashSet<SystemPropertyType>(types.Where(s_backendTypes.Contains));
        BackendProperties fromBackend = new();
        if (backend is not null && asked.Count > 0)
        {
            try
            {
                fromBackend = await backend.GetPropertiesAsync(asked, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new HcsException(HResults.ERROR_CANCELLED, Label, Id);
            }
            catch (Exception) when (_lifetime.IsCancellationRequested)
            {
                // Stopped while asking: answer with what the engine knows.
            }
        }

        Dictionary<string, PropertyResponse>? errors = null;
        void Unavailable(SystemPropertyType type, int hr, string why)
        {
            errors ??= [];
            errors[type.ToString()] = new PropertyResponse { Error = ResultError.From(hr, why) };
        }

        var stoppedReason = backend is null ? "the system is stopped" : null;
        foreach (var type in types)
        {
            switch (type)
            {
                case SystemPropertyType.TerminateOnLastHandleClosed:
                    properties = properties with { TerminateOnLastHandleClosed = TerminateOnLastHandleClosed };
                    break;
                case SystemPropertyType.Statistics:
                    var now = _engine.Time.GetUtcNow();
                    var end = stoppedAt ?? now;
                    properties = properties with
                    {
                        Statistics = new Statistics
                        {
                            Timestamp = now,
                            ContainerStartTime = startedAt ?? CreatedAt,
                            Uptime100ns = startedAt is { } s ? (ulong)Math.Max(0, (end - s).Ticks) : 0,
                            Processor = fromBackend.Processor,
                            Memory = fromBackend.MemoryStats,
                            Storage = fromBackend.Storage,
                        },
                    };
                    break;
                case SystemPropertyType.Memory when fromBackend.Memory is not null:
                    properties = properties with { Memory = fromBackend.Memory };
                    break;
                case SystemPropertyType.ProcessList when fromBackend.ProcessList is not null:
                    properties = properties with { ProcessList = fromBackend.ProcessList };
                    break;
                case SystemPropertyType.GuestConnection when fromBackend.GuestConnection is not null:
                    properties = properties with { GuestConnectionInfo = fromBackend.GuestConnection };
                    break;
                case SystemPropertyType.Memory or SystemPropertyType.ProcessList or SystemPropertyType.GuestConnection:
                    Unavailable(type, stoppedReason is null ? HResults.ERROR_NOT_SUPPORTED : HResults.HCS_E_INVALID_STATE,
                        stoppedReason ?? $"the {_backendKind.Name} backend does not provide '{type}'");
                    break;
                default:
                    Unavailable(type, HResults.ERROR_NOT_SUPPORTED, $"property type '{type}' is not supported on Linux");
                    break;
            }
        }

        if (fromBackend.RuntimeOsType is { } os)
        {
            properties = properties with { RuntimeOsType = os };
        }

        return errors is null ? properties : properties with { PropertyResponses = errors };
    }

    /// <summary>The exit status, once stopped.</summary>
    public SystemExitStatus? ExitStatus
    {
        get
        {
            lock (_gate)
            {
                return _exitStatus;
            }
        }
    }
}
