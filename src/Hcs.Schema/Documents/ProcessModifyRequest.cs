// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ProcessModifyRequest</c>: the document of <c>HcsModifyProcess</c>.</summary>
public sealed record ProcessModifyRequest
{
    /// <summary>What to change; selects which other member must be set.</summary>
    public ModifyOperation? Operation { get; init; }

    /// <summary>New console size, with <see cref="ModifyOperation.ConsoleSize"/>.</summary>
    public ConsoleSize? ConsoleSize { get; init; }

    /// <summary>Handle to close, with <see cref="ModifyOperation.CloseHandle"/>.</summary>
    public CloseHandle? CloseHandle { get; init; }
}

/// <summary>Schema <c>ConsoleSize</c>.</summary>
public sealed record ConsoleSize
{
    /// <summary>Rows.</summary>
    public ushort Height { get; init; }

    /// <summary>Columns.</summary>
    public ushort Width { get; init; }
}

/// <summary>Schema <c>CloseHandle</c>.</summary>
public sealed record CloseHandle
{
    /// <summary>Handle to close.</summary>
    public StdHandle? Handle { get; init; }
}

/// <summary>Schema <c>ModifyOperation</c>.</summary>
public enum ModifyOperation
{
    /// <summary>Resize the console.</summary>
    ConsoleSize,
    /// <summary>Close a standard handle.</summary>
    CloseHandle,
}

/// <summary>Schema <c>StdHandle</c>.</summary>
public enum StdHandle
{
    /// <summary>Standard input.</summary>
    StdIn,
    /// <summary>Standard output.</summary>
    StdOut,
    /// <summary>Standard error.</summary>
    StdErr,
    /// <summary>All three.</summary>
    All,
}
