// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>SystemQuery</c>: the filter of <c>HcsEnumerateComputeSystems</c> (AND across members, OR within one).</summary>
public sealed record SystemQuery
{
    /// <summary>System ids.</summary>
    public IReadOnlyList<string>? Ids { get; init; }

    /// <summary>System names.</summary>
    public IReadOnlyList<string>? Names { get; init; }

    /// <summary>System types (<c>Container</c>, <c>VirtualMachine</c>).</summary>
    public IReadOnlyList<string>? Types { get; init; }

    /// <summary>Owners.</summary>
    public IReadOnlyList<string>? Owners { get; init; }
}
