// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Phases of a compute system inside the engine (the public <see cref="SystemState"/> plus construction).</summary>
public enum SystemPhase
{
    /// <summary>The backend is constructing the system; calls wait for it.</summary>
    Creating,
    /// <summary>Constructed, not started.</summary>
    Created,
    /// <summary>Running.</summary>
    Running,
    /// <summary>Paused.</summary>
    Paused,
    /// <summary>Stopped; only exit status and properties remain.</summary>
    Stopped,
}

/// <summary>The verbs of the operation × state matrix.</summary>
public enum SystemVerb
{
    /// <summary>HcsStartComputeSystem.</summary>
    Start,
    /// <summary>HcsShutDownComputeSystem.</summary>
    ShutDown,
    /// <summary>HcsTerminateComputeSystem.</summary>
    Terminate,
    /// <summary>HcsPauseComputeSystem.</summary>
    Pause,
    /// <summary>HcsResumeComputeSystem.</summary>
    Resume,
    /// <summary>HcsSaveComputeSystem.</summary>
    Save,
    /// <summary>HcsCrashComputeSystem.</summary>
    Crash,
    /// <summary>HcsModifyComputeSystem.</summary>
    Modify,
    /// <summary>HcsGetComputeSystemProperties.</summary>
    GetProperties,
    /// <summary>HcsCreateProcess.</summary>
    CreateProcess,
}

/// <summary>
/// The operation × state matrix (hcs-api.md §7.3), in one place. <see cref="Check"/> returns <c>S_OK</c> when the
/// verb may run, otherwise the exact HRESULT to fail with.
/// </summary>
/// <remarks>
/// | Verb          | Created | Running | Paused  | Stopped (or stopping)          |
/// |---------------|---------|---------|---------|--------------------------------|
/// | Start         | ok      | INVALID | INVALID | INVALID                        |
/// | ShutDown      | ok      | ok      | ok      | SYSTEM_ALREADY_STOPPED         |
/// | Terminate     | ok      | ok      | ok      | SYSTEM_ALREADY_STOPPED         |
/// | Pause         | INVALID | ok      | INVALID | INVALID                        |
/// | Resume        | INVALID | INVALID | ok      | INVALID                        |
/// | Save          | INVALID | INVALID | ok      | INVALID                        |
/// | Crash         | INVALID | ok      | INVALID | INVALID                        |
/// | Modify        | ok      | ok      | ok      | INVALID                        |
/// | GetProperties | ok      | ok      | ok      | ok                             |
/// | CreateProcess | INVALID | ok      | INVALID | INVALID                        |
/// INVALID = <c>HCS_E_INVALID_STATE</c>. "Stopping" = a Terminate is in progress.
/// </remarks>
public static class StateMachine
{
    /// <summary>The label a call of <paramref name="verb"/> fails under (<see cref="OperationLabels"/>).</summary>
    public static string LabelOf(SystemVerb verb) => verb switch
    {
        SystemVerb.Start => OperationLabels.Start,
        SystemVerb.ShutDown => OperationLabels.ShutDown,
        SystemVerb.Terminate => OperationLabels.Terminate,
        SystemVerb.Pause => OperationLabels.Pause,
        SystemVerb.Resume => OperationLabels.Resume,
        SystemVerb.Save => OperationLabels.Save,
        SystemVerb.Crash => OperationLabels.Crash,
        SystemVerb.Modify => OperationLabels.ModifySystem,
        SystemVerb.GetProperties => OperationLabels.GetSystemProperties,
        SystemVerb.CreateProcess => OperationLabels.CreateProcess,
        _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, null),
    };

    /// <summary>Returns <c>S_OK</c> if <paramref name="verb"/> is valid in <paramref name="phase"/>, else the HRESULT to return.</summary>
    public static int Check(SystemVerb verb, SystemPhase phase, bool terminating = false)
    {
        var stopped = phase == SystemPhase.Stopped || terminating;
        return verb switch
        {
            SystemVerb.GetProperties => HResults.S_OK,
            SystemVerb.ShutDown or SystemVerb.Terminate => stopped ? HResults.HCS_E_SYSTEM_ALREADY_STOPPED : HResults.S_OK,
            _ when stopped => HResults.HCS_E_INVALID_STATE,
            SystemVerb.Start => Allow(phase == SystemPhase.Created),
            SystemVerb.Pause or SystemVerb.Crash or SystemVerb.CreateProcess => Allow(phase == SystemPhase.Running),
            SystemVerb.Resume or SystemVerb.Save => Allow(phase == SystemPhase.Paused),
            SystemVerb.Modify => HResults.S_OK,
            _ => HResults.E_INVALIDARG,
        };
    }

    /// <summary>The public state for a phase.</summary>
    public static SystemState ToState(SystemPhase phase) => phase switch
    {
        SystemPhase.Creating or SystemPhase.Created => SystemState.Created,
        SystemPhase.Running => SystemState.Running,
        SystemPhase.Paused => SystemState.Paused,
        _ => SystemState.Stopped,
    };

    private static int Allow(bool ok) => ok ? HResults.S_OK : HResults.HCS_E_INVALID_STATE;
}
