// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Microsoft.Extensions.Logging;

namespace Hcs.Engine;

/// <summary>The engine's log messages (stable event ids; <c>SystemId</c> names the system).</summary>
internal static partial class EngineLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "State store: writing the record of {SystemId} ({State}) failed; a call that needed it fails")]
    public static partial void StateWriteFailed(ILogger logger, string systemId, string state, Exception exception);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "State store: a write for {SystemId} arrived after the store was closed and is lost")]
    public static partial void StateWriteAfterClose(ILogger logger, string systemId);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "State store: closing failed")]
    public static partial void StateStoreCloseFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Recovery: {SystemId} re-adopted from the {Backend} backend in state {State}")]
    public static partial void Adopted(ILogger logger, string systemId, string backend, string state);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "Recovery: {SystemId} ended while the service was down ({ExitType})")]
    public static partial void ExitedWhileDown(ILogger logger, string systemId, string exitType);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Recovery: {SystemId} terminated ({Reason}): {Detail}")]
    public static partial void TerminatedOnRecovery(ILogger logger, string systemId, string reason, string detail);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Error, Message = "Recovery: {SystemId} is recorded for backend {Backend}, which this service does not run; its record is kept")]
    public static partial void BackendMissing(ILogger logger, string systemId, string backend);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Warning, Message = "Recovery: orphan cleaned by the {Backend} backend: {Orphan}")]
    public static partial void OrphanCleaned(ILogger logger, string backend, string orphan);

    [LoggerMessage(EventId = 1016, Level = LogLevel.Error, Message = "Recovery: the {Backend} backend found a live system this service has no live record of; it was left running (stop it by hand if it is not wanted): {What}")]
    public static partial void LeftRunning(ILogger logger, string backend, string what);

    [LoggerMessage(EventId = 1015, Level = LogLevel.Error, Message = "Recovery: {SystemId}: {Problem}")]
    public static partial void RecoveryProblem(ILogger logger, string systemId, string problem, Exception? exception);

    [LoggerMessage(EventId = 1020, Level = LogLevel.Error, Message = "Detach: {SystemId} could not be detached from its backend and was terminated")]
    public static partial void DetachFailed(ILogger logger, string systemId, Exception exception);

    [LoggerMessage(EventId = 1021, Level = LogLevel.Error, Message = "Detach: detaching {SystemId} failed unexpectedly; its record says where it was")]
    public static partial void DetachCrashed(ILogger logger, string systemId, Exception exception);
}
