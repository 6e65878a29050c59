// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// The one table of operation labels: what <see cref="HcsException.Operation"/> says for each call of the API, in one
/// convention, <c>Interface.Call</c> as the C# API names it (<c>ComputeSystem.Start</c>, <c>ComputeProcess.Signal</c>,
/// <c>Service.GetProperties</c>). The engine, the backends, hcsd, the client and hcsctl all take their labels from
/// here, so a call fails under the same label in process and over hcsd. A backend's failure is reported under the
/// label of the API call that reached the backend (the engine relabels it); a backend may name its own internal steps
/// <c>&lt;Backend&gt;.&lt;Step&gt;</c> (e.g. <c>RuncBackend.Adopt</c>), which only appear in logs and inner exceptions.
/// </summary>
public static class OperationLabels
{
    /// <summary>HcsCreateComputeSystem, and waiting for its construction.</summary>
    public const string CreateSystem = "ComputeSystem.Create";

    /// <summary>HcsOpenComputeSystem.</summary>
    public const string OpenSystem = "ComputeSystem.Open";

    /// <summary>HcsEnumerateComputeSystems.</summary>
    public const string EnumerateSystems = "ComputeSystem.Enumerate";

    /// <summary>Granting another uid access to a system (hcs's own call; hcsctl <c>grant</c>).</summary>
    public const string GrantAccess = "ComputeSystem.GrantAccess";

    /// <summary>HcsStartComputeSystem.</summary>
    public const string Start = "ComputeSystem.Start";

    /// <summary>HcsShutDownComputeSystem.</summary>
    public const string ShutDown = "ComputeSystem.ShutDown";

    /// <summary>HcsTerminateComputeSystem.</summary>
    public const string Terminate = "ComputeSystem.Terminate";

    /// <summary>HcsPauseComputeSystem.</summary>
    public const string Pause = "ComputeSystem.Pause";

    /// <summary>HcsResumeComputeSystem.</summary>
    public const string Resume = "ComputeSystem.Resume";

    /// <summary>HcsSaveComputeSystem.</summary>
    public const string Save = "ComputeSystem.Save";

    /// <summary>HcsCrashComputeSystem.</summary>
    public const string Crash = "ComputeSystem.Crash";

    /// <summary>HcsModifyComputeSystem.</summary>
    public const string ModifySystem = "ComputeSystem.Modify";

    /// <summary>HcsGetComputeSystemProperties.</summary>
    public const string GetSystemProperties = "ComputeSystem.GetProperties";

    /// <summary>Waiting for a system's exit (HcsWaitForComputeSystemExit).</summary>
    public const string WaitForSystemExit = "ComputeSystem.WaitForExit";

    /// <summary>HcsSetComputeSystemCallback (subscribing to a system's events).</summary>
    public const string SetSystemCallback = "ComputeSystem.SetCallback";

    /// <summary>Removing a stopped system's record (hcsctl <c>rm</c>).</summary>
    public const string RemoveSystem = "ComputeSystem.Remove";

    /// <summary>A system call whose verb the service does not know.</summary>
    public const string SystemCall = "ComputeSystem.Call";

    /// <summary>HcsCreateProcess.</summary>
    public const string CreateProcess = "ComputeProcess.Create";

    /// <summary>HcsOpenProcess.</summary>
    public const string OpenProcess = "ComputeProcess.Open";

    /// <summary>HcsSignalProcess.</summary>
    public const string SignalProcess = "ComputeProcess.Signal";

    /// <summary>HcsTerminateProcess.</summary>
    public const string TerminateProcess = "ComputeProcess.Terminate";

    /// <summary>HcsGetProcessProperties.</summary>
    public const string GetProcessProperties = "ComputeProcess.GetProperties";

    /// <summary>HcsModifyProcess.</summary>
    public const string ModifyProcess = "ComputeProcess.Modify";

    /// <summary>Waiting for a process's exit.</summary>
    public const string WaitForProcessExit = "ComputeProcess.WaitForExit";

    /// <summary>A process's wait ended in failure (<c>LastWaitResult</c>, hcsctl <c>exec</c>).</summary>
    public const string WaitForProcess = "ComputeProcess.Wait";

    /// <summary>HcsSetProcessCallback (subscribing to a process's events).</summary>
    public const string SetProcessCallback = "ComputeProcess.SetCallback";

    /// <summary>Attaching a created process's stdio over hcsd.</summary>
    public const string ProcessStdio = "ComputeProcess.Stdio";

    /// <summary>A process call whose verb the service does not know.</summary>
    public const string ProcessCall = "ComputeProcess.Call";

    /// <summary>Connecting to the service (opening a session).</summary>
    public const string Connect = "Service.Connect";

    /// <summary>A session stream of hcsd as a whole (a frame it cannot read).</summary>
    public const string Session = "Service.Session";

    /// <summary>A request that names no verb the service knows.</summary>
    public const string ServiceCall = "Service.Call";

    /// <summary>HcsGetServiceProperties.</summary>
    public const string GetServiceProperties = "Service.GetProperties";

    /// <summary>HcsSubmitWerReport.</summary>
    public const string SubmitWerReport = "Service.SubmitWerReport";

    /// <summary>Writing the service's state store.</summary>
    public const string WriteState = "Service.WriteState";

    /// <summary>Recovering the systems of a previous service instance.</summary>
    public const string Recover = "Service.Recover";

    /// <summary>HcsCloseComputeSystem / HcsCloseProcess over hcsd.</summary>
    public const string CloseHandle = "CloseHandle";
}
