// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>SecuritySettings</c>: TPM and isolation of a VM.</summary>
public sealed record SecuritySettings
{
    /// <summary>Give the VM a virtual TPM.</summary>
    public bool? EnableTpm { get; init; }

    /// <summary>Isolation (confidential VM) settings.</summary>
    public IsolationSettings? Isolation { get; init; }
}

/// <summary>Schema <c>IsolationSettings</c>: confidential-VM isolation.</summary>
public sealed record IsolationSettings
{
    /// <summary>Isolation technology, e.g. <c>SecureNestedPaging</c>.</summary>
    public string? IsolationType { get; init; }

    /// <summary>Launch data (base64).</summary>
    public string? LaunchData { get; init; }

    /// <summary>Enable the host compatibility layer.</summary>
    public bool? HclEnabled { get; init; }
}
