// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Protocol;

/// <summary>
/// The label (<see cref="OperationLabels"/>) of each system and process verb of the wire, shared by the client, which
/// fails a call under it, and hcsd, which reports a failure of the call under it when the engine gave none.
/// </summary>
public static class WireVerbs
{
    /// <summary>The label of a <see cref="SystemCallRequest"/> with <paramref name="verb"/>.</summary>
    public static string LabelOf(SystemVerb verb) => verb switch
    {
        SystemVerb.WaitForCreated => OperationLabels.CreateSystem,
        SystemVerb.Start => OperationLabels.Start,
        SystemVerb.ShutDown => OperationLabels.ShutDown,
        SystemVerb.Terminate => OperationLabels.Terminate,
        SystemVerb.Pause => OperationLabels.Pause,
        SystemVerb.Resume => OperationLabels.Resume,
        SystemVerb.Save => OperationLabels.Save,
        SystemVerb.Crash => OperationLabels.Crash,
        SystemVerb.Modify => OperationLabels.ModifySystem,
        SystemVerb.GetProperties => OperationLabels.GetSystemProperties,
        SystemVerb.WaitForExit => OperationLabels.WaitForSystemExit,
        _ => OperationLabels.SystemCall,
    };

    /// <summary>The label of a <see cref="ProcessCallRequest"/> with <paramref name="verb"/>.</summary>
    public static string LabelOf(ProcessVerb verb) => verb switch
    {
        ProcessVerb.Signal => OperationLabels.SignalProcess,
        ProcessVerb.ProcessTerminate => OperationLabels.TerminateProcess,
        ProcessVerb.ProcessGetProperties => OperationLabels.GetProcessProperties,
        ProcessVerb.ProcessModify => OperationLabels.ModifyProcess,
        ProcessVerb.ProcessWaitForExit => OperationLabels.WaitForProcessExit,
        _ => OperationLabels.ProcessCall,
    };
}
