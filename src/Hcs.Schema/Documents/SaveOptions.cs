// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>SaveOptions</c>: options of <c>HcsSaveComputeSystem</c>.</summary>
public sealed record SaveOptions
{
    /// <summary>What to save.</summary>
    public SaveType? SaveType { get; init; }

    /// <summary>Saved-state file.</summary>
    public string? SaveStateFilePath { get; init; }
}

/// <summary>Schema <c>SaveType</c>.</summary>
public enum SaveType
{
    /// <summary>Save to a file.</summary>
    ToFile,
    /// <summary>Save as a clone template.</summary>
    AsTemplate,
}
