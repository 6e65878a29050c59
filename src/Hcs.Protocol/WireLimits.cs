// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Schema;

namespace Hcs.Protocol;

/// <summary>
/// The size limits both ends of the wire agree on. HCS documents are a few KB; the largest legitimate payload is a
/// crash report (a console tail of at most 64 KiB, under 400 KiB even with every character JSON-escaped, and
/// <c>SubmitWerReport</c> accepts at most 1 Mi characters, at most 3 MiB of UTF-8), so 4 MiB — gRPC's own default — leaves
/// room for the largest legitimate payload with margin while bounding what one message can make either end hold.
/// A request over the limit fails at the client (its call only, <c>ERROR_MESSAGE_EXCEEDS_MAX_SIZE</c>, nothing sent);
/// a reply over the limit fails its call only at hcsd (an error reply naming the limit; an error whose text is too
/// long keeps its HRESULT and is truncated).
/// </summary>
public static class WireLimits
{
    /// <summary>The largest gRPC message either end sends or accepts: 4 MiB.</summary>
    public const int MaxMessageSize = 4 * 1024 * 1024;

    /// <summary>
    /// The largest single request or reply/event: <see cref="MaxMessageSize"/> less room for the frame that carries
    /// it (a frame's tag and length, the message's oneof tag and length: well under 64 bytes).
    /// </summary>
    public const int MaxPayloadSize = MaxMessageSize - 64;

    /// <summary>Bytes a message of <paramref name="size"/> bytes adds to a frame: its tag, length prefix and body.</summary>
    public static int FramedSize(int size) => size + 1 + Google.Protobuf.CodedOutputStream.ComputeLengthSize(size);

    /// <summary>The error of a message of <paramref name="size"/> bytes that exceeds <see cref="MaxPayloadSize"/>.</summary>
    public static HcsException TooLarge(string what, long size, string? label, string? id = null, uint? processId = null) =>
        new(HResults.ERROR_MESSAGE_EXCEEDS_MAX_SIZE, label, id, processId, ResultError.From(HResults.ERROR_MESSAGE_EXCEEDS_MAX_SIZE,
            string.Create(CultureInfo.InvariantCulture, $"{what} is {size} bytes, over the {MaxPayloadSize}-byte limit of a message to or from hcsd (4 MiB)")));
}
