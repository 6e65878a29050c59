// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>HostedSystem</c>: a container created inside a hosting system.</summary>
public sealed record HostedSystem
{
    /// <summary>Schema version of the hosted document (2.1 when omitted).</summary>
    public Version? SchemaVersion { get; init; }

    /// <summary>The hosted container.</summary>
    public Container? Container { get; init; }
}
