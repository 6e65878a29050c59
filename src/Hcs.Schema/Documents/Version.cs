// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Version</c>: a schema or configuration version (<c>Major</c>.<c>Minor</c>).</summary>
public sealed record Version
{
    /// <summary>Major version; majors are incompatible with each other.</summary>
    public required uint Major { get; init; }

    /// <summary>Minor version; minors are backward-compatible.</summary>
    public required uint Minor { get; init; }

    /// <summary>Formats the version as <c>Major.Minor</c>.</summary>
    public override string ToString() => $"{Major}.{Minor}";
}
