// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Chipset</c>: firmware and boot configuration of a VM.</summary>
public sealed record Chipset
{
    /// <summary>UEFI firmware settings.</summary>
    public Uefi? Uefi { get; init; }

    /// <summary>Start with Num Lock off.</summary>
    public bool? IsNumLockDisabled { get; init; }

    /// <summary>SMBIOS base-board serial number.</summary>
    public string? BaseBoardSerialNumber { get; init; }

    /// <summary>SMBIOS chassis serial number.</summary>
    public string? ChassisSerialNumber { get; init; }

    /// <summary>SMBIOS chassis asset tag.</summary>
    public string? ChassisAssetTag { get; init; }

    /// <summary>Allow the guest to hibernate (2.5).</summary>
    [SchemaSince(2, 5)]
    public bool? EnableHibernation { get; init; }

    /// <summary>The real-time clock runs in UTC (2.1).</summary>
    [SchemaSince(2, 1)]
    public bool? UseUtc { get; init; }

    /// <summary>Boot a Linux kernel directly, without firmware (2.2).</summary>
    [SchemaSince(2, 2)]
    public LinuxKernelDirect? LinuxKernelDirect { get; init; }

    /// <summary>Custom firmware file.</summary>
    public FirmwareFile? FirmwareFile { get; init; }
}

/// <summary>Schema <c>LinuxKernelDirect</c>: direct kernel boot.</summary>
public sealed record LinuxKernelDirect
{
    /// <summary>Kernel image on the host.</summary>
    public string? KernelFilePath { get; init; }

    /// <summary>Initial ramdisk on the host.</summary>
    public string? InitRdPath { get; init; }

    /// <summary>Kernel command line.</summary>
    public string? KernelCmdLine { get; init; }
}

/// <summary>Schema <c>FirmwareFile</c>: firmware parameters.</summary>
public sealed record FirmwareFile
{
    /// <summary>Firmware parameters (base64).</summary>
    public string? Parameters { get; init; }
}
