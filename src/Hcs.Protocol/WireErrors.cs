// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Google.Protobuf;
using Grpc.Core;
using Hcs.Schema;

namespace Hcs.Protocol;

/// <summary>
/// How an <see cref="HcsException"/> crosses the wire: an <see cref="ErrorDetail"/> (HRESULT, call label, system and
/// process ids, the <see cref="ResultError"/> document) from which the client rebuilds the same exception. A call's
/// failure travels in its reply on the session stream; a failed stream carries it in the <c>hcs-error-bin</c>
/// trailer, under a gRPC status mapped from the HRESULT for gRPC-level tooling.
/// </summary>
public static class WireErrors
{
    /// <summary>The trailer holding a serialized <see cref="ErrorDetail"/>.</summary>
    public const string Trailer = "hcs-error-bin";

    /// <summary>The header naming the caller's session on a <c>ProcessStdio</c> call.</summary>
    public const string SessionHeader = "hcs-session";

    /// <summary>The wire form of <paramref name="exception"/>: HRESULT, label, ids and the ResultError document.</summary>
    public static ErrorDetail ToDetail(HcsException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var detail = new ErrorDetail
        {
            Hresult = exception.HResult,
            Result = HcsJson.Serialize(exception.Result),
        };
        if (exception.Operation is { } operation)
        {
            detail.Operation = operation;
        }

        if (exception.SystemId is { } id)
        {
            detail.SystemId = id;
        }

        if (exception.ProcessId is { } pid)
        {
            detail.ProcessId = pid;
        }

        return detail;
    }

    /// <summary>Rebuilds the <see cref="HcsException"/> the service threw from its wire form.</summary>
    public static HcsException FromDetail(ErrorDetail detail)
    {
        ArgumentNullException.ThrowIfNull(detail);
        ResultError? result = null;
        try
        {
            result = HcsJson.Deserialize<ResultError>(detail.Result);
        }
        catch (HcsException)
        {
            // A result we cannot read still carries its HRESULT.
        }

        return new HcsException(detail.Hresult, detail.HasOperation ? detail.Operation : null, detail.HasSystemId ? detail.SystemId : null,
            detail.HasProcessId ? detail.ProcessId : null, result);
    }

    /// <summary>Turns <paramref name="exception"/> into the <see cref="RpcException"/> a service method throws.</summary>
    public static RpcException ToRpcException(HcsException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var trailers = new Metadata { { Trailer, ToDetail(exception).ToByteArray() } };
        return new RpcException(new Status(StatusOf(exception.HResult), exception.Message), trailers);
    }

    /// <summary>
    /// The <see cref="HcsException"/> a failed call stands for: the one the service threw when the trailer is there;
    /// otherwise <c>HCS_E_SERVICE_DISCONNECT</c>: the service went away (unavailable, connection reset). A caller's own
    /// cancellation is the caller's to map before this.
    /// </summary>
    public static HcsException ToHcsException(RpcException exception, string label, string? systemId = null, uint? processId = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var entry = exception.Trailers.Get(Trailer);
        if (entry is { IsBinary: true })
        {
            return FromDetail(ErrorDetail.Parser.ParseFrom(entry.ValueBytes));
        }

        return new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, label, systemId, processId,
            ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"the compute service went away ({exception.StatusCode}: {exception.Status.Detail})"), exception);
    }

    private static StatusCode StatusOf(int hr) => hr switch
    {
        HResults.HCS_E_SYSTEM_NOT_FOUND => StatusCode.NotFound,
        HResults.HCS_E_SYSTEM_ALREADY_EXISTS => StatusCode.AlreadyExists,
        HResults.HCS_E_INVALID_JSON or HResults.E_INVALIDARG => StatusCode.InvalidArgument,
        HResults.HCS_E_ACCESS_DENIED or HResults.E_ACCESSDENIED => StatusCode.PermissionDenied,
        HResults.HCS_E_INVALID_STATE => StatusCode.FailedPrecondition,
        HResults.ERROR_TIMEOUT => StatusCode.DeadlineExceeded,
        HResults.ERROR_NOT_SUPPORTED => StatusCode.Unimplemented,
        HResults.ERROR_CANCELLED => StatusCode.Cancelled,
        HResults.HCS_E_SERVICE_DISCONNECT => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };
}
