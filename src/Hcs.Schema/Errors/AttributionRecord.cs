// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// Why a system stopped or an operation failed (schema <c>AttributionRecord</c>, 2.4).
/// Exactly one member is set.
/// </summary>
public sealed record AttributionRecord
{
    /// <summary>The worker process (QEMU, the container monitor) exited.</summary>
    public WorkerExit? WorkerExit { get; init; }
    /// <summary>The guest crashed.</summary>
    public GuestCrash? GuestCrash { get; init; }
    /// <summary>The guest triple-faulted.</summary>
    public TripleFault? TripleFault { get; init; }
    /// <summary>An NMI was injected.</summary>
    public InjectNonMaskableInterrupt? InjectNonMaskableInterrupt { get; init; }
    /// <summary>An operation failed.</summary>
    public OperationFailure? OperationFailure { get; init; }
    /// <summary>The system exited.</summary>
    public SystemExit? SystemExit { get; init; }
    /// <summary>A virtual device failed.</summary>
    public VirtualDeviceFailure? VirtualDeviceFailure { get; init; }
}

/// <summary>Schema <c>WorkerExit</c>.</summary>
public sealed record WorkerExit
{
    /// <summary>Exit code of the worker process (on Linux: the exit status, or 128 + signal number).</summary>
    public uint? ExitCode { get; init; }
    /// <summary>Kind of exit.</summary>
    public WorkerExitType? Type { get; init; }
    /// <summary>Detail.</summary>
    public WorkerExitDetail? Detail { get; init; }
    /// <summary>Who initiated it.</summary>
    public ExitInitiator? Initiator { get; init; }
}

/// <summary>Schema <c>GuestCrash</c>.</summary>
public sealed record GuestCrash
{
    /// <summary>Bugcheck code and arguments.</summary>
    public IReadOnlyList<ulong>? CrashParameters { get; init; }
}

/// <summary>Schema <c>TripleFault</c>.</summary>
public sealed record TripleFault
{
    /// <summary>Error type.</summary>
    public ulong? ErrorType { get; init; }
}

/// <summary>Schema <c>InjectNonMaskableInterrupt</c>.</summary>
public sealed record InjectNonMaskableInterrupt
{
    /// <summary>Who injected it.</summary>
    public ExitInitiator? Initiator { get; init; }
}

/// <summary>Schema <c>OperationFailure</c>.</summary>
public sealed record OperationFailure
{
    /// <summary>Which step failed.</summary>
    public OperationFailureDetail? Detail { get; init; }
}

/// <summary>Schema <c>SystemExit</c>.</summary>
public sealed record SystemExit
{
    /// <summary>Why the system exited.</summary>
    public SystemExitDetail? Detail { get; init; }
    /// <summary>Who initiated it.</summary>
    public ExitInitiator? Initiator { get; init; }
}

/// <summary>Schema <c>VirtualDeviceFailure</c>.</summary>
public sealed record VirtualDeviceFailure
{
    /// <summary>Which device kind failed.</summary>
    public VirtualDeviceFailureDetail? Detail { get; init; }
}

/// <summary>Schema <c>WorkerExitType</c>.</summary>
public enum WorkerExitType
{
    /// <summary>None.</summary>
    None,
    /// <summary>The worker failed to initialise.</summary>
    InitializationFailed,
    /// <summary>The worker stopped.</summary>
    Stopped,
    /// <summary>The worker saved its state and exited.</summary>
    Saved,
    /// <summary>The guest reset and <c>StopOnReset</c> was set.</summary>
    StoppedOnReset,
    /// <summary>The worker stopped unexpectedly.</summary>
    UnexpectedStop,
    /// <summary>A reset failed.</summary>
    ResetFailed,
    /// <summary>An unrecoverable error.</summary>
    UnrecoverableError,
}

/// <summary>Schema <c>WorkerExitDetail</c> (informational).</summary>
public enum WorkerExitDetail
{
    /// <summary>Invalid.</summary>
    Invalid,
    /// <summary>Guest powered off.</summary>
    PowerOff,
    /// <summary>Guest powered off by a stop request.</summary>
    PowerOffCritical,
    /// <summary>Guest reset.</summary>
    Reset,
    /// <summary>Guest crashed.</summary>
    GuestCrash,
    /// <summary>Guest firmware crashed.</summary>
    GuestFirmwareCrash,
    /// <summary>Guest triple-faulted.</summary>
    TripleFault,
    /// <summary>A device reported a fatal error.</summary>
    DeviceFatalApicRequest,
    /// <summary>A device reported a fatal MSR error.</summary>
    DeviceFatalMsrRequest,
    /// <summary>A device reported a fatal exception.</summary>
    DeviceFatalException,
    /// <summary>A device reported a fatal error.</summary>
    DeviceFatalError,
    /// <summary>A device machine check.</summary>
    DeviceMachineCheck,
    /// <summary>Emulator error.</summary>
    EmulatorError,
    /// <summary>VID terminated.</summary>
    VidTerminate,
    /// <summary>The worker process exited unexpectedly.</summary>
    ProcessUnexpectedExit,
    /// <summary>Initialization failure.</summary>
    InitializationFailure,
    /// <summary>Initialization timed out.</summary>
    InitializationStartTimeout,
    /// <summary>Colds start failure.</summary>
    ColdStartFailure,
    /// <summary>Reset start failure.</summary>
    ResetStartFailure,
    /// <summary>Fast restore start failure.</summary>
    FastRestoreStartFailure,
    /// <summary>Restore start failure.</summary>
    RestoreStartFailure,
    /// <summary>Fast save.</summary>
    FastSavePreservePartition,
    /// <summary>Fast save with partition handle.</summary>
    FastSavePreservePartitionHandleTransfer,
    /// <summary>Fast save.</summary>
    FastSave,
    /// <summary>Clone template.</summary>
    CloneTemplate,
    /// <summary>Saved.</summary>
    Save,
    /// <summary>Migrated.</summary>
    Migrate,
    /// <summary>Migration failed.</summary>
    MigrateFailure,
    /// <summary>Cannot reference the VM.</summary>
    CannotReferenceVm,
    /// <summary>A management stop.</summary>
    MgotUnregister,
}

/// <summary>Schema <c>ExitInitiator</c>.</summary>
public enum ExitInitiator
{
    /// <summary>None.</summary>
    None,
    /// <summary>The guest operating system.</summary>
    GuestOS,
    /// <summary>The client (an API call).</summary>
    Client,
    /// <summary>The service itself.</summary>
    Internal,
    /// <summary>Unknown (e.g. the worker process was killed from outside).</summary>
    Unknown,
}

/// <summary>Schema <c>SystemExitDetail</c>.</summary>
public enum SystemExitDetail
{
    /// <summary>Invalid.</summary>
    Invalid,
    /// <summary>A fatal API error.</summary>
    HcsApiFatalError,
    /// <summary>The service stopped.</summary>
    ServiceStop,
    /// <summary>The system shut down.</summary>
    Shutdown,
    /// <summary>The system was terminated.</summary>
    Terminate,
    /// <summary>The system exited unexpectedly.</summary>
    UnexpectedExit,
}

/// <summary>Schema <c>OperationFailureDetail</c>.</summary>
public enum OperationFailureDetail
{
    /// <summary>Invalid.</summary>
    Invalid,
    /// <summary>Internal error during create.</summary>
    CreateInternalError,
    /// <summary>State construction error.</summary>
    ConstructStateError,
    /// <summary>Runtime OS type mismatch.</summary>
    RuntimeOsTypeMismatch,
    /// <summary>Construct.</summary>
    Construct,
    /// <summary>Start.</summary>
    Start,
    /// <summary>Pause.</summary>
    Pause,
    /// <summary>Resume.</summary>
    Resume,
    /// <summary>Shutdown.</summary>
    Shutdown,
    /// <summary>Terminate.</summary>
    Terminate,
    /// <summary>Save.</summary>
    Save,
    /// <summary>GetProperties.</summary>
    GetProperties,
    /// <summary>Modify.</summary>
    Modify,
    /// <summary>Crash.</summary>
    Crash,
    /// <summary>Guest crash.</summary>
    GuestCrash,
    /// <summary>Lifecycle notification.</summary>
    LifecycleNotify,
    /// <summary>Execute process.</summary>
    ExecuteProcess,
    /// <summary>Get process info.</summary>
    GetProcessInfo,
    /// <summary>Wait for process.</summary>
    WaitForProcess,
    /// <summary>Signal process.</summary>
    SignalProcess,
    /// <summary>Modify process.</summary>
    ModifyProcess,
    /// <summary>Prepare for hosting.</summary>
    PrepareForHosting,
    /// <summary>Register hosted system.</summary>
    RegisterHostedSystem,
    /// <summary>Unregister hosted system.</summary>
    UnregisterHostedSystem,
    /// <summary>Prepare for clone.</summary>
    PrepareForClone,
    /// <summary>Get clone template.</summary>
    GetCloneTemplate,
}

/// <summary>Schema <c>VirtualDeviceFailureDetail</c> (informational).</summary>
public enum VirtualDeviceFailureDetail
{
    /// <summary>None.</summary>
    None,
    /// <summary>Create.</summary>
    Create,
    /// <summary>Initialize.</summary>
    Initialize,
    /// <summary>Start reserve resources.</summary>
    StartReserveResources,
    /// <summary>Start.</summary>
    Start,
    /// <summary>Start complete.</summary>
    StartComplete,
    /// <summary>Stop.</summary>
    Stop,
    /// <summary>Save.</summary>
    Save,
    /// <summary>Restore.</summary>
    Restore,
    /// <summary>Reset.</summary>
    Reset,
    /// <summary>Teardown.</summary>
    Teardown,
}
