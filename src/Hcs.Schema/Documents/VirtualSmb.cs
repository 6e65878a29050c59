// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>VirtualSmb</c>: SMB file shares (Windows guests).</summary>
public sealed record VirtualSmb
{
    /// <summary>Shares.</summary>
    public IReadOnlyList<VirtualSmbShare>? Shares { get; init; }

    /// <summary>Size of the direct file mapping area in MiB.</summary>
    public long? DirectFileMappingInMB { get; init; }
}

/// <summary>Schema <c>VirtualSmbShare</c>: one SMB share.</summary>
public sealed record VirtualSmbShare
{
    /// <summary>Share name.</summary>
    public string? Name { get; init; }

    /// <summary>Host directory.</summary>
    public string? Path { get; init; }

    /// <summary>Files visible when access is restricted.</summary>
    public IReadOnlyList<string>? AllowedFiles { get; init; }

    /// <summary>Share options.</summary>
    public VirtualSmbShareOptions? Options { get; init; }
}

/// <summary>Schema <c>VirtualSmbShareOptions</c>.</summary>
public sealed record VirtualSmbShareOptions
{
    /// <summary>Read-only share.</summary>
    public bool? ReadOnly { get; init; }

    /// <summary>Open files with share-read.</summary>
    public bool? ShareRead { get; init; }

    /// <summary>Cache I/O.</summary>
    public bool? CacheIo { get; init; }

    /// <summary>No oplocks.</summary>
    public bool? NoOplocks { get; init; }

    /// <summary>Open with backup privilege.</summary>
    public bool? TakeBackupPrivilege { get; init; }

    /// <summary>Use the share root's identity.</summary>
    public bool? UseShareRootIdentity { get; init; }

    /// <summary>No direct mapping.</summary>
    public bool? NoDirectmap { get; init; }

    /// <summary>No byte-range locks.</summary>
    public bool? NoLocks { get; init; }

    /// <summary>No directory change notifications.</summary>
    public bool? NoDirnotify { get; init; }

    /// <summary>Use VM shared memory.</summary>
    public bool? VmSharedMemory { get; init; }

    /// <summary>Only <c>AllowedFiles</c> are visible.</summary>
    public bool? RestrictFileAccess { get; init; }

    /// <summary>Force level II oplocks.</summary>
    public bool? ForceLevelIIOplocks { get; init; }

    /// <summary>Reparse against the base layer.</summary>
    public bool? ReparseBaseLayer { get; init; }

    /// <summary>Pseudo oplocks.</summary>
    public bool? PseudoOplocks { get; init; }

    /// <summary>Non-cached I/O.</summary>
    public bool? NonCacheIo { get; init; }

    /// <summary>Pseudo directory notifications.</summary>
    public bool? PseudoDirnotify { get; init; }

    /// <summary>Map single files.</summary>
    public bool? SingleFileMapping { get; init; }
}
