// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>Devices</c>: the virtual devices of a VM.</summary>
public sealed record Devices
{
    /// <summary>Serial ports, keyed by port index (<c>"0"</c>, <c>"1"</c>).</summary>
    public IReadOnlyDictionary<string, ComPort>? ComPorts { get; init; }

    /// <summary>virtio-serial ports (2.2).</summary>
    [SchemaSince(2, 2)]
    public VirtioSerial? VirtioSerial { get; init; }

    /// <summary>SCSI controllers, keyed by controller name or GUID.</summary>
    public IReadOnlyDictionary<string, Scsi>? Scsi { get; init; }

    /// <summary>Virtual persistent-memory devices.</summary>
    public VirtualPMemController? VirtualPMem { get; init; }

    /// <summary>Network adapters, keyed by adapter id.</summary>
    public IReadOnlyDictionary<string, NetworkAdapter>? NetworkAdapters { get; init; }

    /// <summary>Video monitor.</summary>
    public VideoMonitor? VideoMonitor { get; init; }

    /// <summary>Keyboard.</summary>
    public Keyboard? Keyboard { get; init; }

    /// <summary>Mouse.</summary>
    public Mouse? Mouse { get; init; }

    /// <summary>Enhanced-mode (remote desktop) video.</summary>
    public EnhancedModeVideo? EnhancedModeVideo { get; init; }

    /// <summary>Guest crash reporting.</summary>
    public GuestCrashReporting? GuestCrashReporting { get; init; }

    /// <summary>Hyper-V sockets (vsock).</summary>
    public HvSocket? HvSocket { get; init; }

    /// <summary>Plan 9 file shares (Linux guests).</summary>
    public Plan9? Plan9 { get; init; }

    /// <summary>Virtual SMB file shares (Windows guests).</summary>
    public VirtualSmb? VirtualSmb { get; init; }

    /// <summary>Battery.</summary>
    public Battery? Battery { get; init; }

    /// <summary>Assigned PCI devices, keyed by device id.</summary>
    public IReadOnlyDictionary<string, VirtualPciDevice>? VirtualPci { get; init; }
}

/// <summary>Schema <c>ComPort</c>: a serial port connected to a named pipe.</summary>
public sealed record ComPort
{
    /// <summary>Host pipe (on Linux: a Unix socket path); empty means disconnected.</summary>
    public string? NamedPipe { get; init; }

    /// <summary>Tune the port for a kernel debugger.</summary>
    public bool? OptimizeForDebugger { get; init; }
}

/// <summary>Schema <c>VirtioSerial</c>: virtio-serial ports (2.2).</summary>
public sealed record VirtioSerial
{
    /// <summary>Ports, keyed by port index.</summary>
    public IReadOnlyDictionary<string, VirtioSerialPort>? Ports { get; init; }
}

/// <summary>Schema <c>VirtioSerialPort</c>.</summary>
public sealed record VirtioSerialPort
{
    /// <summary>Host pipe (on Linux: a Unix socket path).</summary>
    public string? NamedPipe { get; init; }

    /// <summary>Port name seen by the guest.</summary>
    public string? Name { get; init; }
}

/// <summary>Schema <c>Keyboard</c>: a keyboard (no settings; sent as <c>{}</c>).</summary>
public sealed record Keyboard;

/// <summary>Schema <c>Mouse</c>: a mouse (no settings; sent as <c>{}</c>).</summary>
public sealed record Mouse;

/// <summary>Schema <c>Battery</c>: a battery (no settings; sent as <c>{}</c>).</summary>
public sealed record Battery;
