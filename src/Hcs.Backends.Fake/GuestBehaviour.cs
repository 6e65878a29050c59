// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Backends.Fake;

/// <summary>
/// The guest's scripted behaviour, read from the kernel command line verb <c>hcstest=VERB[:MILLISECONDS]</c> in
/// <c>VirtualMachine.Chipset.LinuxKernelDirect.KernelCmdLine</c>. The QEMU test guest's <c>/init</c> obeys the same
/// verbs, so one document drives the fake and the real backend alike.
/// </summary>
/// <param name="Verb">What the guest does.</param>
/// <param name="After">When, after start.</param>
public sealed record GuestBehaviour(GuestVerb Verb, TimeSpan After)
{
    /// <summary>An idle guest.</summary>
    public static GuestBehaviour Idle { get; } = new(GuestVerb.Idle, TimeSpan.Zero);

    /// <summary>Parses the <c>hcstest=</c> verb out of a kernel command line; idle when absent.</summary>
    public static GuestBehaviour Parse(string? kernelCmdLine)
    {
        if (string.IsNullOrWhiteSpace(kernelCmdLine))
        {
            return Idle;
        }

        foreach (var word in kernelCmdLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!word.StartsWith("hcstest=", StringComparison.Ordinal))
            {
                continue;
            }

            var value = word["hcstest=".Length..];
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? value : value[..colon];
            var ms = colon < 0 ? 0 : int.Parse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
            var verb = name switch
            {
                "idle" => GuestVerb.Idle,
                "poweroff" => GuestVerb.PowerOff,
                "panic" => GuestVerb.Panic,
                "reboot" => GuestVerb.Reboot,
                "counter" => GuestVerb.Counter,
                "disks" => GuestVerb.Disks,
                "spin" => GuestVerb.Spin,
                "vport" => GuestVerb.VirtioPorts,
                _ => throw new FormatException($"unknown hcstest verb '{name}'"),
            };
            return new GuestBehaviour(verb, TimeSpan.FromMilliseconds(ms));
        }

        return Idle;
    }
}

/// <summary>Guest behaviours of the test guest.</summary>
public enum GuestVerb
{
    /// <summary>Do nothing until told (shutdown request → power off).</summary>
    Idle,
    /// <summary>Power off after the delay.</summary>
    PowerOff,
    /// <summary>Panic (kernel crash) after the delay.</summary>
    Panic,
    /// <summary>Reboot after the delay.</summary>
    Reboot,
    /// <summary>Print a counter on the serial port (idle otherwise).</summary>
    Counter,
    /// <summary>Print the guest's block devices on the serial port whenever they change, e.g. after a SCSI hot add (idle otherwise).</summary>
    Disks,
    /// <summary>
    /// Busy-loop on every cycle the guest gets, until stopped (to observe CPU limits). The fake runs it like
    /// <see cref="Idle"/>: it already charges all of a running system's time as CPU time.
    /// </summary>
    Spin,
    /// <summary>After the delay, open each virtio-serial port, write a line and close it (→ guest connection closed per port); idle otherwise.</summary>
    VirtioPorts,
}
