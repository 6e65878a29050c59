// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Schema <c>VideoMonitor</c>: a synthetic video monitor.</summary>
public sealed record VideoMonitor
{
    /// <summary>Horizontal resolution in pixels.</summary>
    public ushort? HorizontalResolution { get; init; }

    /// <summary>Vertical resolution in pixels.</summary>
    public ushort? VerticalResolution { get; init; }

    /// <summary>Remote connection options, passed through unchanged.</summary>
    public JsonElement? ConnectionOptions { get; init; }
}

/// <summary>Schema <c>EnhancedModeVideo</c>: enhanced-mode (remote desktop) video.</summary>
public sealed record EnhancedModeVideo
{
    /// <summary>Remote connection options, passed through unchanged.</summary>
    public JsonElement? ConnectionOptions { get; init; }
}
