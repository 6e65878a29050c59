// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>GuestConnectionInfo</c>: what the guest agent supports.</summary>
public sealed record GuestConnectionInfo
{
    /// <summary>Schema versions the guest supports.</summary>
    public IReadOnlyList<Version>? SupportedSchemaVersions { get; init; }

    /// <summary>Negotiated protocol version.</summary>
    public uint? ProtocolVersion { get; init; }

    /// <summary>Guest-defined capabilities, passed through unchanged.</summary>
    public JsonElement? GuestDefinedCapabilities { get; init; }
}
