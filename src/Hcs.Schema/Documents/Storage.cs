// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Storage</c>: the root file system of a container.</summary>
public sealed record Storage
{
    /// <summary>Read-only image layers, parent first.</summary>
    public IReadOnlyList<Layer>? Layers { get; init; }

    /// <summary>Scratch (writable) directory.</summary>
    public string? Path { get; init; }

    /// <summary>Storage limits.</summary>
    public StorageQoS? QoS { get; init; }

    /// <summary>Root path of a privileged (host-process) container.</summary>
    public string? PrivilegedContainerRootPath { get; init; }
}

/// <summary>Schema <c>Layer</c>: one read-only image layer.</summary>
public sealed record Layer
{
    /// <summary>Layer id.</summary>
    public Guid? Id { get; init; }

    /// <summary>Layer location.</summary>
    public string? Path { get; init; }

    /// <summary>What <see cref="Path"/> names.</summary>
    public PathType? PathType { get; init; }

    /// <summary>Cache mode.</summary>
    public string? Cache { get; init; }
}

/// <summary>Schema <c>MappedDirectory</c>: a host directory bind-mounted into a container.</summary>
public sealed record MappedDirectory
{
    /// <summary>Host directory.</summary>
    public string? HostPath { get; init; }

    /// <summary>What <see cref="HostPath"/> names.</summary>
    public PathType? HostPathType { get; init; }

    /// <summary>Path inside the container.</summary>
    public string? ContainerPath { get; init; }

    /// <summary>Mount read-only.</summary>
    public bool? ReadOnly { get; init; }

    /// <summary>Support cloud files.</summary>
    public bool? SupportCloudFiles { get; init; }
}

/// <summary>Schema <c>MappedPipe</c>: a host pipe mapped into a container.</summary>
public sealed record MappedPipe
{
    /// <summary>Pipe name inside the container.</summary>
    public string? ContainerPipeName { get; init; }

    /// <summary>Host pipe (on Linux: a Unix socket path).</summary>
    public string? HostPath { get; init; }

    /// <summary>What <see cref="HostPath"/> names.</summary>
    public PathType? HostPathType { get; init; }
}

/// <summary>Schema <c>PathType</c>.</summary>
public enum PathType
{
    /// <summary>An absolute host path.</summary>
    AbsolutePath,
    /// <summary>The name of a virtual SMB share.</summary>
    VirtualSmbShareName,
}
