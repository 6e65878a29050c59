// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>HvSocket</c>: Hyper-V socket (vsock) device of a VM.</summary>
public sealed record HvSocket
{
    /// <summary>Socket configuration.</summary>
    public HvSocketSystemConfig? HvSocketConfig { get; init; }
}

/// <summary>Schema <c>HvSocketSystemConfig</c>: default and per-service socket security.</summary>
public sealed record HvSocketSystemConfig
{
    /// <summary>Default SDDL for binds.</summary>
    public string? DefaultBindSecurityDescriptor { get; init; }

    /// <summary>Default SDDL for connects.</summary>
    public string? DefaultConnectSecurityDescriptor { get; init; }

    /// <summary>Per-service settings, keyed by service GUID.</summary>
    public IReadOnlyDictionary<string, HvSocketServiceConfig>? ServiceTable { get; init; }
}

/// <summary>Schema <c>HvSocketServiceConfig</c>: settings of one socket service.</summary>
public sealed record HvSocketServiceConfig
{
    /// <summary>SDDL for binds.</summary>
    public string? BindSecurityDescriptor { get; init; }

    /// <summary>SDDL for connects.</summary>
    public string? ConnectSecurityDescriptor { get; init; }

    /// <summary>Allow wildcard binds.</summary>
    public bool? AllowWildcardBinds { get; init; }

    /// <summary>The service is disabled.</summary>
    public bool? Disabled { get; init; }
}

/// <summary>Schema <c>Container_HvSocket</c>: socket settings of a container.</summary>
public sealed record ContainerHvSocket
{
    /// <summary>Socket configuration.</summary>
    public HvSocketSystemConfig? Config { get; init; }

    /// <summary>Enable PowerShell Direct.</summary>
    public bool? EnablePowerShellDirect { get; init; }
}
