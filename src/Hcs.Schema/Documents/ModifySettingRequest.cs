// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>ModifySettingRequest</c>: the document of <c>HcsModifyComputeSystem</c>.</summary>
public sealed record ModifySettingRequest
{
    /// <summary>Resource to modify, e.g. <c>VirtualMachine/Devices/Scsi/0/Attachments/1</c>.</summary>
    public string? ResourcePath { get; init; }

    /// <summary>Kind of change.</summary>
    public ModifyRequestType? RequestType { get; init; }

    /// <summary>New settings for the resource, passed through unchanged.</summary>
    public JsonElement? Settings { get; init; }

    /// <summary>Request forwarded to the guest agent, passed through unchanged.</summary>
    public JsonElement? GuestRequest { get; init; }
}

/// <summary>Schema <c>ModifyRequestType</c>.</summary>
public enum ModifyRequestType
{
    /// <summary>Add the resource.</summary>
    Add,
    /// <summary>Remove the resource.</summary>
    Remove,
    /// <summary>Update the resource.</summary>
    Update,
    /// <summary>Prepare to add the resource (networking).</summary>
    PreAdd,
}
