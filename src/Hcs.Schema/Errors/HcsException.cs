// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics.CodeAnalysis;

namespace Hcs.Schema;

/// <summary>
/// The one error type of hcs: an HRESULT (<see cref="Exception.HResult"/>), the label of the failed call
/// (e.g. <c>ComputeSystem.Start</c>), the system and process it concerns, and the <see cref="ResultError"/> document.
/// After an <see cref="HcsException"/> the handle stays usable unless the HRESULT says otherwise
/// (<c>HCS_E_SERVICE_DISCONNECT</c>: reconnect).
/// </summary>
public class HcsException : Exception
{
    /// <summary>Creates an exception for <paramref name="hr"/>.</summary>
    /// <param name="hr">The failure HRESULT.</param>
    /// <param name="operation">Label of the failed call, e.g. <c>ComputeSystem.Start</c>.</param>
    /// <param name="systemId">The compute system, when the failure concerns one.</param>
    /// <param name="processId">The process, when the failure concerns one.</param>
    /// <param name="result">The result document; when null one is made from <paramref name="hr"/>.</param>
    /// <param name="inner">The cause.</param>
    public HcsException(int hr, string? operation = null, string? systemId = null, uint? processId = null,
        ResultError? result = null, Exception? inner = null)
        : base(Format(hr, operation, systemId, processId, result), inner)
    {
        HResult = hr;
        Operation = operation;
        SystemId = systemId;
        ProcessId = processId;
        Result = result ?? ResultError.From(hr);
    }

    /// <summary>Label of the failed call, e.g. <c>ComputeSystem.Start</c>.</summary>
    public string? Operation { get; }

    /// <summary>The compute system concerned, if any.</summary>
    public string? SystemId { get; }

    /// <summary>The process concerned, if any.</summary>
    public uint? ProcessId { get; }

    /// <summary>The result document (never null; its <c>Error</c> equals <see cref="Exception.HResult"/>).</summary>
    public ResultError Result { get; }

    /// <summary>The documented name of the HRESULT, e.g. <c>HCS_E_INVALID_JSON</c>.</summary>
    public string HResultName => HResults.NameOf(HResult);

    /// <summary>Creates an <c>HCS_E_INVALID_JSON</c> error naming the JSON path and the reason.</summary>
    public static HcsException InvalidJson(string path, string reason, string? operation = null, string? systemId = null) =>
        new(HResults.HCS_E_INVALID_JSON, operation, systemId, null,
            ResultError.From(HResults.HCS_E_INVALID_JSON, $"{path}: {reason}", "hcs.schema"));

    /// <summary>
    /// Returns <paramref name="exception"/> itself if it already is an <see cref="HcsException"/> (never wraps twice),
    /// otherwise wraps it with <paramref name="fallbackHr"/>.
    /// </summary>
    public static HcsException Wrap(Exception exception, string? operation, string? systemId = null, uint? processId = null,
        int fallbackHr = HResults.E_FAIL)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            HcsException hcs => hcs,
            OperationCanceledException => new HcsException(HResults.ERROR_CANCELLED, operation, systemId, processId, inner: exception),
            TimeoutException => new HcsException(HResults.ERROR_TIMEOUT, operation, systemId, processId, inner: exception),
            _ => new HcsException(fallbackHr, operation, systemId, processId,
                ResultError.From(fallbackHr, exception.Message, exception.GetType().Name), exception),
        };
    }

    /// <summary>Throws <see cref="HcsException"/> for <paramref name="hr"/> if it is a failure.</summary>
    public static void ThrowIfFailed(int hr, string? operation = null, string? systemId = null, ResultError? result = null)
    {
        if (hr < 0)
        {
            Throw(hr, operation, systemId, result);
        }
    }

    /// <summary>Throws <see cref="HcsException"/> for <paramref name="hr"/>.</summary>
    [DoesNotReturn]
    public static void Throw(int hr, string? operation = null, string? systemId = null, ResultError? result = null) =>
        throw new HcsException(hr, operation, systemId, null, result);

    private static string Format(int hr, string? operation, string? systemId, uint? processId, ResultError? result)
    {
        var subject = (operation, systemId, processId) switch
        {
            (null, null, _) => "",
            (_, null, _) => operation + ": ",
            (_, _, null) => $"{operation ?? "hcs"} {systemId}: ",
            _ => $"{operation ?? "hcs"} {systemId}:{processId}: ",
        };
        var text = result?.ErrorMessage ?? HResults.MessageOf(hr);
        return $"{subject}{text} ({HResults.NameOf(hr)})";
    }
}
