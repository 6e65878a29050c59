// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Plan9</c>: 9p file shares over vsock (Linux guests).</summary>
public sealed record Plan9
{
    /// <summary>Shares.</summary>
    public IReadOnlyList<Plan9Share>? Shares { get; init; }
}

/// <summary>Schema <c>Plan9Share</c>: one 9p share.</summary>
public sealed record Plan9Share
{
    /// <summary>Share name.</summary>
    public string? Name { get; init; }

    /// <summary>Name the guest uses to attach (aname).</summary>
    public string? AccessName { get; init; }

    /// <summary>Host directory.</summary>
    public string? Path { get; init; }

    /// <summary>vsock port.</summary>
    public uint? Port { get; init; }

    /// <summary>Flags: ReadOnly 0x1, LinuxMetadata 0x4, CaseSensitive 0x8, UseShareRootIdentity 0x10, RestrictFileAccess 0x80, UnlimitedConnections 0x100.</summary>
    public uint? Flags { get; init; }

    /// <summary>Files visible when access is restricted.</summary>
    public IReadOnlyList<string>? AllowedFiles { get; init; }
}
