// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary><c>HCS_EVENT_TYPE</c>: the type of an event delivered to a handle's callback. Values are those of ComputeDefs.h.</summary>
public enum HcsEventType : uint
{
    /// <summary>Never delivered.</summary>
    Invalid = 0x00000000,
    /// <summary>The system exited; EventData is a <see cref="SystemExitStatus"/>. Last system event, once per handle.</summary>
    SystemExited = 0x00000001,
    /// <summary>The guest began crashing; EventData is a <c>CrashReport</c>.</summary>
    SystemCrashInitiated = 0x00000002,
    /// <summary>The guest crash finished; EventData is a <c>CrashReport</c>.</summary>
    SystemCrashReport = 0x00000003,
    /// <summary>A remote console session connected or disconnected.</summary>
    SystemRdpEnhancedModeStateChanged = 0x00000004,
    /// <summary>The container's cgroup and namespaces exist.</summary>
    SystemSiloJobCreated = 0x00000005,
    /// <summary>The connection to the guest closed (expected or not).</summary>
    SystemGuestConnectionClosed = 0x00000006,
    /// <summary>A process exited; EventData is a <c>ProcessStatus</c>. Only on process handles.</summary>
    ProcessExited = 0x00010000,
    /// <summary>An operation bound to this handle completed (only with <see cref="HcsEventOptions.EnableOperationCallbacks"/>).</summary>
    OperationCallback = 0x01000000,
    /// <summary>The connection to the service was lost; the handle is useless.</summary>
    ServiceDisconnect = 0x02000000,
    /// <summary>VM lifecycle group (not raised by hcs).</summary>
    GroupVmLifecycle = 0x80000002,
    /// <summary>Live-migration group (not raised by hcs).</summary>
    GroupLiveMigration = 0x80000003,
    /// <summary>Operation information group (not raised by hcs).</summary>
    GroupOperationInfo = 0xC0000001,
}

/// <summary><c>HCS_EVENT_OPTIONS</c> flags given when registering a handle callback.</summary>
[Flags]
public enum HcsEventOptions : uint
{
    /// <summary>No options.</summary>
    None = 0,
    /// <summary>Deliver <see cref="HcsEventType.OperationCallback"/> for operations bound to the handle; operations with their own callback are then refused.</summary>
    EnableOperationCallbacks = 1,
    /// <summary>VM lifecycle events (not supported by hcs; refused).</summary>
    EnableVmLifecycle = 2,
    /// <summary>Live-migration events (not supported by hcs; refused).</summary>
    EnableLiveMigrationEvents = 4,
}

/// <summary><c>HCS_OPERATION_TYPE</c>: which call an operation tracks. Values are those of ComputeDefs.h.</summary>
public enum HcsOperationType
{
    /// <summary>Not yet bound to a call.</summary>
    None = -1,
    /// <summary>HcsEnumerateComputeSystems.</summary>
    Enumerate = 0,
    /// <summary>HcsCreateComputeSystem.</summary>
    Create = 1,
    /// <summary>HcsStartComputeSystem.</summary>
    Start = 2,
    /// <summary>HcsShutDownComputeSystem.</summary>
    Shutdown = 3,
    /// <summary>HcsPauseComputeSystem.</summary>
    Pause = 4,
    /// <summary>HcsResumeComputeSystem.</summary>
    Resume = 5,
    /// <summary>HcsSaveComputeSystem.</summary>
    Save = 6,
    /// <summary>HcsTerminateComputeSystem.</summary>
    Terminate = 7,
    /// <summary>HcsModifyComputeSystem.</summary>
    Modify = 8,
    /// <summary>HcsGetComputeSystemProperties.</summary>
    GetProperties = 9,
    /// <summary>HcsCreateProcess.</summary>
    CreateProcess = 10,
    /// <summary>HcsSignalProcess (and HcsTerminateProcess, which has no value of its own).</summary>
    SignalProcess = 11,
    /// <summary>HcsGetProcessInfo.</summary>
    GetProcessInfo = 12,
    /// <summary>HcsGetProcessProperties.</summary>
    GetProcessProperties = 13,
    /// <summary>HcsModifyProcess.</summary>
    ModifyProcess = 14,
    /// <summary>HcsCrashComputeSystem.</summary>
    Crash = 15,
    /// <summary>Reserved.</summary>
    Reserved1 = 16,
    /// <summary>Reserved.</summary>
    Reserved2 = 17,
    /// <summary>Reserved.</summary>
    Reserved3 = 18,
    /// <summary>Live migration verbs.</summary>
    LiveMigration = 19,
}
