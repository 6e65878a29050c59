// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Uefi</c>: UEFI firmware settings.</summary>
public sealed record Uefi
{
    /// <summary>Enable the firmware debugger.</summary>
    public bool? EnableDebugger { get; init; }

    /// <summary>Secure-boot template to apply.</summary>
    public Guid? SecureBootTemplateId { get; init; }

    /// <summary>Whether to apply the secure-boot template.</summary>
    public ApplySecureBootTemplateType? ApplySecureBootTemplate { get; init; }

    /// <summary>One-time boot entry.</summary>
    public UefiBootEntry? BootThis { get; init; }

    /// <summary>Firmware console.</summary>
    public SerialConsole? Console { get; init; }

    /// <summary>Stop the VM when boot fails (2.2).</summary>
    [SchemaSince(2, 2)]
    public bool? StopOnBootFailure { get; init; }
}

/// <summary>Schema <c>UefiBootEntry</c>: the device to boot from.</summary>
public sealed record UefiBootEntry
{
    /// <summary>Kind of boot device.</summary>
    public UefiBootDevice? DeviceType { get; init; }

    /// <summary>Device path (e.g. SCSI controller name, or file in the VMBFS share).</summary>
    public string? DevicePath { get; init; }

    /// <summary>Disk number on the SCSI controller.</summary>
    public ushort? DiskNumber { get; init; }

    /// <summary>Data passed to the boot loader (e.g. kernel command line).</summary>
    public string? OptionalData { get; init; }

    /// <summary>Host directory exposed over VMBFS.</summary>
    public string? VmbFsRootPath { get; init; }
}

/// <summary>Schema <c>ApplySecureBootTemplateType</c>.</summary>
public enum ApplySecureBootTemplateType
{
    /// <summary>Do not apply the template.</summary>
    Skip,
    /// <summary>Apply the template.</summary>
    Apply,
}

/// <summary>Schema <c>SerialConsole</c>: where the firmware console goes.</summary>
public enum SerialConsole
{
    /// <summary>Default console.</summary>
    Default,
    /// <summary>No console.</summary>
    Disabled,
    /// <summary>COM1.</summary>
    ComPort1,
    /// <summary>COM2.</summary>
    ComPort2,
}

/// <summary>Schema <c>UefiBootDevice</c>.</summary>
public enum UefiBootDevice
{
    /// <summary>A SCSI disk.</summary>
    ScsiDrive,
    /// <summary>A file in the VMBFS share.</summary>
    VmbFs,
    /// <summary>Network boot.</summary>
    Network,
    /// <summary>A file.</summary>
    File,
}
