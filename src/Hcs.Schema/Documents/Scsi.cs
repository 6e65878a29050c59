// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Scsi</c>: a SCSI controller and its attachments.</summary>
public sealed record Scsi
{
    /// <summary>Attachments, keyed by LUN (<c>"0"</c>, <c>"1"</c>, ...).</summary>
    public IReadOnlyDictionary<string, Attachment>? Attachments { get; init; }

    /// <summary>Do not batch interrupts.</summary>
    public bool? DisableInterruptBatching { get; init; }
}

/// <summary>Schema <c>Attachment</c>: a disk or ISO attached to a SCSI controller.</summary>
public sealed record Attachment
{
    /// <summary>Kind of attachment.</summary>
    public AttachmentType? Type { get; init; }

    /// <summary>Host path of the disk image or device.</summary>
    public string? Path { get; init; }

    /// <summary>Host caching mode.</summary>
    public CachingMode? CachingMode { get; init; }

    /// <summary>Attach read-only.</summary>
    public bool? ReadOnly { get; init; }

    /// <summary>Ignore guest flushes.</summary>
    public bool? IgnoreFlushes { get; init; }

    /// <summary>Skip write hardening.</summary>
    public bool? NoWriteHardening { get; init; }

    /// <summary>Disable the expansion optimisation.</summary>
    public bool? DisableExpansionOptimization { get; init; }

    /// <summary>Ignore the relative parent locator of a differencing disk.</summary>
    public bool? IgnoreRelativeLocator { get; init; }

    /// <summary>Capture I/O attribution context.</summary>
    public bool? CaptureIoAttributionContext { get; init; }

    /// <summary>Support compressed volumes (2.3).</summary>
    [SchemaSince(2, 3)]
    public bool? SupportCompressedVolumes { get; init; }

    /// <summary>Type of an extensible virtual disk.</summary>
    public string? ExtensibleVirtualDiskType { get; init; }
}

/// <summary>Schema <c>AttachmentType</c>.</summary>
public enum AttachmentType
{
    /// <summary>A virtual disk image.</summary>
    VirtualDisk,
    /// <summary>An ISO image.</summary>
    Iso,
    /// <summary>A host disk passed through.</summary>
    PassThru,
    /// <summary>An extensible virtual disk.</summary>
    ExtensibleVirtualDisk,
}

/// <summary>Schema <c>CachingMode</c>.</summary>
public enum CachingMode
{
    /// <summary>No host caching.</summary>
    Uncached,
    /// <summary>Host caching.</summary>
    Cached,
    /// <summary>Host caching of reads only.</summary>
    ReadOnlyCached,
}
