// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>
/// Marks a schema member introduced after schema 2.0: a document whose <c>SchemaVersion</c> is older than
/// <see cref="Major"/>.<see cref="Minor"/> may not set it.
/// </summary>
/// <param name="major">Schema major version that introduced the member.</param>
/// <param name="minor">Schema minor version that introduced the member.</param>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false, Inherited = false)]
public sealed class SchemaSinceAttribute(uint major, uint minor) : Attribute
{
    /// <summary>Schema major version that introduced the member.</summary>
    public uint Major { get; } = major;

    /// <summary>Schema minor version that introduced the member.</summary>
    public uint Minor { get; } = minor;
}
