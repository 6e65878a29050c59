// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Why the engine itself is stopping a system (recorded before the backend is told).</summary>
internal enum StopIntent
{
    None,
    /// <summary>HcsShutDownComputeSystem (graceful, client-initiated).</summary>
    ShutDown,
    /// <summary>HcsTerminateComputeSystem.</summary>
    Terminate,
    /// <summary>The last handle closed with ShouldTerminateOnLastHandleClosed.</summary>
    LastHandleClosed,
    /// <summary>The guest reset and StopOnReset is set.</summary>
    StopOnReset,
    /// <summary>
    /// The service ended it for its own consistency: a restarted service found it half-started (its Create or Start
    /// was in flight when the old service died) or could not re-adopt it, or a stopping service could not detach it.
    /// </summary>
    ServiceStop,
}

/// <summary>Composes the <see cref="SystemExitStatus"/> of a stop from the engine's intent and the backend's cause.</summary>
internal static class ExitStatuses
{
    public static SystemExitStatus Compose(StopIntent intent, BackendExit? cause)
    {
        switch (intent)
        {
            case StopIntent.Terminate or StopIntent.LastHandleClosed:
                return Forced(intent == StopIntent.Terminate ? ExitInitiator.Client : ExitInitiator.Internal);
            case StopIntent.ServiceStop:
                return new SystemExitStatus
                {
                    Status = HResults.HCS_E_UNEXPECTED_EXIT,
                    ExitType = NotificationType.UnexpectedExit,
                    Attribution = [new AttributionRecord { SystemExit = new SystemExit { Detail = SystemExitDetail.ServiceStop, Initiator = ExitInitiator.Internal } }],
                };
            case StopIntent.StopOnReset:
                return new SystemExitStatus
                {
                    Status = HResults.HCS_E_UNEXPECTED_EXIT,
                    ExitType = NotificationType.UnexpectedExit,
                    Attribution =
                    [
                        new AttributionRecord
                        {
                            WorkerExit = new WorkerExit
                            {
                                Type = WorkerExitType.StoppedOnReset, Detail = WorkerExitDetail.Reset, Initiator = ExitInitiator.GuestOS,
                            },
                        },
                    ],
                };
        }

        return cause?.Cause switch
        {
            null or BackendExitCause.GuestPowerOff => Graceful(intent == StopIntent.ShutDown ? ExitInitiator.Client : ExitInitiator.GuestOS),
            BackendExitCause.Terminated => Forced(intent == StopIntent.ShutDown ? ExitInitiator.Client : ExitInitiator.Internal),
            BackendExitCause.GuestCrash => new SystemExitStatus
            {
                Status = HResults.HCS_E_UNEXPECTED_EXIT,
                ExitType = NotificationType.UnexpectedExit,
                Attribution =
                [
                    new AttributionRecord { GuestCrash = new GuestCrash { CrashParameters = cause.CrashParameters ?? [] } },
                    new AttributionRecord
                    {
                        WorkerExit = new WorkerExit
                        {
                            Type = WorkerExitType.UnexpectedStop, Detail = WorkerExitDetail.GuestCrash, Initiator = ExitInitiator.GuestOS,
                        },
                    },
                ],
            },
            _ => new SystemExitStatus
            {
                Status = HResults.HCS_E_UNEXPECTED_EXIT,
                ExitType = NotificationType.UnexpectedExit,
                Attribution =
                [
                    new AttributionRecord
                    {
                        WorkerExit = new WorkerExit
                        {
                            ExitCode = cause.WorkerExitCode,
                            Type = WorkerExitType.UnexpectedStop,
                            Detail = WorkerExitDetail.ProcessUnexpectedExit,
                            Initiator = ExitInitiator.Unknown,
                        },
                    },
                    new AttributionRecord { SystemExit = new SystemExit { Detail = SystemExitDetail.UnexpectedExit, Initiator = ExitInitiator.Unknown } },
                ],
            },
        };
    }

    /// <summary>The HRESULT a call pending when the system stopped fails with.</summary>
    public static int PendingCallFailure(SystemExitStatus exit, SystemVerb? verb) => exit.ExitType switch
    {
        NotificationType.ForcedExit => HResults.HCS_E_TERMINATED,
        NotificationType.UnexpectedExit => verb == SystemVerb.Start ? HResults.HCS_E_TERMINATED_DURING_START : HResults.HCS_E_UNEXPECTED_EXIT,
        _ => HResults.HCS_E_SYSTEM_ALREADY_STOPPED,
    };

    private static SystemExitStatus Graceful(ExitInitiator initiator) => new()
    {
        Status = HResults.S_OK,
        ExitType = NotificationType.GracefulExit,
        Attribution = [new AttributionRecord { SystemExit = new SystemExit { Detail = SystemExitDetail.Shutdown, Initiator = initiator } }],
    };

    private static SystemExitStatus Forced(ExitInitiator initiator) => new()
    {
        Status = HResults.HCS_E_TERMINATED,
        ExitType = NotificationType.ForcedExit,
        Attribution = [new AttributionRecord { SystemExit = new SystemExit { Detail = SystemExitDetail.Terminate, Initiator = initiator } }],
    };
}
