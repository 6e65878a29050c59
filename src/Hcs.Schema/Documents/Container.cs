// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>Container</c>: a process-isolated container.</summary>
public sealed record Container
{
    /// <summary>Guest operating-system settings.</summary>
    public GuestOs? GuestOs { get; init; }

    /// <summary>Root file system.</summary>
    public Storage? Storage { get; init; }

    /// <summary>Host directories mapped into the container.</summary>
    public IReadOnlyList<MappedDirectory>? MappedDirectories { get; init; }

    /// <summary>Host pipes mapped into the container.</summary>
    public IReadOnlyList<MappedPipe>? MappedPipes { get; init; }

    /// <summary>Memory limit.</summary>
    public ContainerMemory? Memory { get; init; }

    /// <summary>Processor limit.</summary>
    public ContainerProcessor? Processor { get; init; }

    /// <summary>Networking.</summary>
    public Networking? Networking { get; init; }

    /// <summary>Hyper-V socket settings.</summary>
    public ContainerHvSocket? HvSocket { get; init; }

    /// <summary>Credential Guard settings, passed through unchanged.</summary>
    public JsonElement? ContainerCredentialGuard { get; init; }

    /// <summary>Registry changes (Windows containers).</summary>
    public RegistryChanges? RegistryChanges { get; init; }

    /// <summary>Host devices assigned to the container.</summary>
    public IReadOnlyList<Device>? AssignedDevices { get; init; }

    /// <summary>Additional device namespace, passed through unchanged.</summary>
    public JsonElement? AdditionalDeviceNamespace { get; init; }
}

/// <summary>Schema <c>GuestOs</c>.</summary>
public sealed record GuestOs
{
    /// <summary>Host name inside the container.</summary>
    public string? HostName { get; init; }
}

/// <summary>Schema <c>ContainerMemory</c> (<c>Container_Memory</c>).</summary>
public sealed record ContainerMemory
{
    /// <summary>Memory limit in MiB (must not be 0).</summary>
    public ulong? SizeInMB { get; init; }
}

/// <summary>Schema <c>ContainerProcessor</c> (<c>Container_Processor</c>); Count, Maximum and Weight are mutually exclusive.</summary>
public sealed record ContainerProcessor
{
    /// <summary>Number of processors (must not be 0).</summary>
    public uint? Count { get; init; }

    /// <summary>CPU limit, 1–10000 (percent × 100).</summary>
    public ulong? Maximum { get; init; }

    /// <summary>Relative weight, 0–10000.</summary>
    public ulong? Weight { get; init; }
}

/// <summary>Schema <c>Networking</c> of a container.</summary>
public sealed record Networking
{
    /// <summary>Allow unqualified DNS queries.</summary>
    public bool? AllowUnqualifiedDnsQuery { get; init; }

    /// <summary>DNS search list (comma-separated).</summary>
    public string? DnsSearchList { get; init; }

    /// <summary>Share the network of this container.</summary>
    public string? NetworkSharedContainerName { get; init; }

    /// <summary>Network namespace (a GUID on Windows, a name or path on Linux).</summary>
    public string? Namespace { get; init; }

    /// <summary>Endpoints to attach.</summary>
    public IReadOnlyList<Guid>? NetworkAdapters { get; init; }
}

/// <summary>Schema <c>Device</c>: a host device assigned to a container.</summary>
public sealed record Device
{
    /// <summary>How the device is identified.</summary>
    public DeviceType? Type { get; init; }

    /// <summary>Device interface class.</summary>
    public Guid? InterfaceClassGuid { get; init; }

    /// <summary>Device location path or instance id.</summary>
    public string? LocationPath { get; init; }
}

/// <summary>Schema <c>DeviceType</c>.</summary>
public enum DeviceType
{
    /// <summary>All devices of an interface class.</summary>
    ClassGuid,
    /// <summary>One device instance.</summary>
    DeviceInstance,
    /// <summary>A mirrored GPU.</summary>
    GpuMirror,
}
