// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualPMemController</c>: virtual persistent-memory devices.</summary>
public sealed record VirtualPMemController
{
    /// <summary>Devices, keyed by slot number.</summary>
    public IReadOnlyDictionary<string, VirtualPMemDevice>? Devices { get; init; }

    /// <summary>Maximum number of devices.</summary>
    public byte? MaximumCount { get; init; }

    /// <summary>Maximum size of each device in bytes.</summary>
    public ulong? MaximumSizeBytes { get; init; }

    /// <summary>How device memory is backed.</summary>
    public VirtualPMemBackingType? Backing { get; init; }
}

/// <summary>Schema <c>VirtualPMemDevice</c>: one persistent-memory device.</summary>
public sealed record VirtualPMemDevice
{
    /// <summary>Host image file.</summary>
    public string? HostPath { get; init; }

    /// <summary>Expose read-only.</summary>
    public bool? ReadOnly { get; init; }

    /// <summary>Image format.</summary>
    public VirtualPMemImageFormat? ImageFormat { get; init; }

    /// <summary>Device size in bytes.</summary>
    public ulong? SizeBytes { get; init; }

    /// <summary>Images mapped into the device, keyed by byte offset.</summary>
    public IReadOnlyDictionary<string, VirtualPMemMapping>? Mappings { get; init; }
}

/// <summary>Schema <c>VirtualPMemMapping</c>: an image mapped at an offset of a device.</summary>
public sealed record VirtualPMemMapping
{
    /// <summary>Host image file.</summary>
    public string? HostPath { get; init; }

    /// <summary>Image format.</summary>
    public VirtualPMemImageFormat? ImageFormat { get; init; }
}

/// <summary>Schema <c>VirtualPMemImageFormat</c>.</summary>
public enum VirtualPMemImageFormat
{
    /// <summary>VHDX.</summary>
    Vhdx,
    /// <summary>VHD (version 1).</summary>
    Vhd1,
}

/// <summary>Schema <c>VirtualPMemBackingType</c>.</summary>
public enum VirtualPMemBackingType
{
    /// <summary>Virtual (pageable) memory.</summary>
    Virtual,
    /// <summary>Physical memory.</summary>
    Physical,
}
