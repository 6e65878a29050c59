// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>Properties</c>: the result of <c>HcsGetComputeSystemProperties</c> and of enumeration.</summary>
public sealed record Properties
{
    /// <summary>System id.</summary>
    public string? Id { get; init; }

    /// <summary>Kind of system.</summary>
    public SystemType? SystemType { get; init; }

    /// <summary>Operating system running in the system.</summary>
    public OsType? RuntimeOsType { get; init; }

    /// <summary>System name.</summary>
    public string? Name { get; init; }

    /// <summary>Owning client.</summary>
    public string? Owner { get; init; }

    /// <summary>Runtime id.</summary>
    public Guid? RuntimeId { get; init; }

    /// <summary>System GUID (SMBIOS UUID of a VM).</summary>
    public Guid? SystemGUID { get; init; }

    /// <summary>Template the system was cloned from.</summary>
    public string? RuntimeTemplateId { get; init; }

    /// <summary>Current state.</summary>
    public SystemState? State { get; init; }

    /// <summary>The system has stopped.</summary>
    public bool? Stopped { get; init; }

    /// <summary>How the system stopped.</summary>
    public NotificationType? ExitType { get; init; }

    /// <summary>Memory information (property type <c>Memory</c>).</summary>
    public MemoryInformationForVm? Memory { get; init; }

    /// <summary>Statistics (property type <c>Statistics</c>).</summary>
    public Statistics? Statistics { get; init; }

    /// <summary>Processes (property type <c>ProcessList</c>).</summary>
    public IReadOnlyList<ProcessDetails>? ProcessList { get; init; }

    /// <summary>Whether closing the last handle terminates the system.</summary>
    public bool? TerminateOnLastHandleClosed { get; init; }

    /// <summary>Hosting system, for a hosted system.</summary>
    public string? HostingSystemId { get; init; }

    /// <summary>Shared memory regions, passed through unchanged.</summary>
    public JsonElement? SharedMemoryRegionInfo { get; init; }

    /// <summary>Guest connection (property type <c>GuestConnection</c>).</summary>
    public GuestConnectionInfo? GuestConnectionInfo { get; init; }

    /// <summary>Responses to named queries (2.5).</summary>
    public IReadOnlyDictionary<string, PropertyResponse>? PropertyResponses { get; init; }
}

/// <summary>Schema <c>PropertyResponse</c>: the answer to one named property query.</summary>
public sealed record PropertyResponse
{
    /// <summary>The error, when the query failed.</summary>
    public ResultError? Error { get; init; }

    /// <summary>The answer, when the query succeeded.</summary>
    public JsonElement? Response { get; init; }
}

/// <summary>Schema <c>SystemType</c>.</summary>
public enum SystemType
{
    /// <summary>A container.</summary>
    Container,
    /// <summary>A virtual machine.</summary>
    VirtualMachine,
}

/// <summary>Schema <c>OsType</c>.</summary>
public enum OsType
{
    /// <summary>Not known yet.</summary>
    Unknown,
    /// <summary>Windows.</summary>
    Windows,
    /// <summary>Linux.</summary>
    Linux,
}

/// <summary>Schema <c>State</c> of a compute system.</summary>
public enum SystemState
{
    /// <summary>Created, not started.</summary>
    Created,
    /// <summary>Running.</summary>
    Running,
    /// <summary>Paused.</summary>
    Paused,
    /// <summary>Stopped.</summary>
    Stopped,
    /// <summary>Saved as a clone template.</summary>
    SavedAsTemplate,
    /// <summary>Unknown.</summary>
    Unknown,
}
