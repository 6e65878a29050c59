// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.TestKit;

/// <summary>
/// The one gate for what a test needs from the machine: root, QEMU, runc, the static busybox, the test guest, OVMF,
/// hcs-shim. A test (or the fixture or helper that needs it) calls the check first; when the prerequisite is missing
/// the test is skipped with a reason that starts with <see cref="Reason"/> (xunit's <c>Assert.Skip</c>), so a
/// developer machine without QEMU still runs every other test.
/// <para>
/// Where every tier must run (CI, and <c>./build.sh test</c> on a machine it has set up), <see cref="RequireAllVariable"/>
/// turns such a skip into a failure. Each missing prerequisite is also appended as one line to the file named by
/// <see cref="LogVariable"/>, which <c>./build.sh test</c> counts and groups after its closing line. Skips by design
/// (a conformance test a backend cannot do) do not go through here.
/// </para>
/// </summary>
public static class Requires
{
    /// <summary>Set to <c>1</c>: a missing prerequisite fails the test instead of skipping it.</summary>
    public const string RequireAllVariable = "HCS_TEST_REQUIRE_ALL";

    /// <summary>A file each missing prerequisite is appended to as one line (its reason).</summary>
    public const string LogVariable = "HCS_TEST_PREREQUISITE_LOG";

    /// <summary>How every skip reason given by this class starts.</summary>
    public const string Reason = "missing prerequisite: ";

    /// <summary>The runc binary the runc backend runs by default (Debian's runc package).</summary>
    public const string RuncPath = "/usr/sbin/runc";

    /// <summary>The static busybox the test layer is made of (Debian's busybox-static package).</summary>
    public const string BusyboxPath = "/bin/busybox";

    /// <summary>The UEFI firmware QEMU boots a VM without a kernel with (Debian's ovmf package).</summary>
    public const string OvmfPath = "/usr/share/OVMF/OVMF_CODE_4M.fd";

    private static readonly Lock s_logGate = new();
    private static readonly Lazy<bool> s_qemu = new(() => OnPath("qemu-system-x86_64"));

    /// <summary>Whether this process runs as root (mounting, cgroups, runc, another uid's socket).</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Skips unless this process runs as root.</summary>
    public static void Root() => Check(IsRoot, $"root (running as {Environment.UserName})");

    /// <summary>Skips unless <c>qemu-system-x86_64</c> is on PATH.</summary>
    public static void Qemu() => Check(s_qemu.Value, "qemu-system-x86_64 on PATH (apt-get install qemu-system-x86, or ./build.sh setup)");

    /// <summary>Skips unless the UEFI firmware is installed (<see cref="OvmfPath"/>).</summary>
    public static void Ovmf() => Check(File.Exists(OvmfPath), $"{OvmfPath} (apt-get install ovmf, or ./build.sh setup)");

    /// <summary>Skips unless runc is installed (<see cref="RuncPath"/>) and this process runs as root, as runc needs.</summary>
    public static void Runc()
    {
        Check(File.Exists(RuncPath), $"{RuncPath} (apt-get install runc, or ./build.sh setup)");
        Root();
    }

    /// <summary>Skips unless the static busybox the test layer is built from is installed (<see cref="BusyboxPath"/>).</summary>
    public static void Busybox() => Check(File.Exists(BusyboxPath), $"{BusyboxPath} (apt-get install busybox-static, or ./build.sh setup)");

    /// <summary>Skips unless the test guest is built (artifacts/guest, by <c>./build.sh setup</c>).</summary>
    public static void GuestImage()
    {
        var guest = Repository.Path("artifacts", "guest");
        Check(File.Exists(System.IO.Path.Combine(guest, "initrd.cpio.gz")) && File.Exists(System.IO.Path.Combine(guest, "vmlinuz")),
            $"the test guest in {guest} (./build.sh setup runs guest/build.sh)");
    }

    /// <summary>Skips unless hcs-shim is published (artifacts/shim/hcs-shim, by <c>./build.sh setup</c>).</summary>
    public static void Shim()
    {
        var shim = Repository.Path("artifacts", "shim", "hcs-shim");
        Check(File.Exists(shim), $"{shim} (./build.sh setup publishes it)");
    }

    /// <summary>
    /// Everything a container test needs: runc and root, hcs-shim, and the busybox test layer.
    /// </summary>
    public static void Containers()
    {
        Runc();
        Shim();
        Busybox();
    }

    /// <summary>Everything a VM test needs: QEMU and the test guest.</summary>
    public static void Vms()
    {
        Qemu();
        GuestImage();
    }

    /// <summary>Skips (or fails, see <see cref="RequireAllVariable"/>) unless <paramref name="present"/>.</summary>
    /// <param name="present">Whether the prerequisite is there.</param>
    /// <param name="what">What is missing, and how to get it.</param>
    public static void Check(bool present, string what)
    {
        if (present)
        {
            return;
        }

        var reason = Reason + what;
        Log(reason);
        if (Environment.GetEnvironmentVariable(RequireAllVariable) is "1" or "true")
        {
            Assert.Fail($"{reason} ({RequireAllVariable} is set: every tier must run here)");
        }

        Assert.Skip(reason);
    }

    private static void Log(string reason)
    {
        if (Environment.GetEnvironmentVariable(LogVariable) is not { Length: > 0 } log)
        {
            return;
        }

        // One short O_APPEND write per line: whole lines even with several test processes appending at once.
        lock (s_logGate)
        {
            using var file = new FileStream(log, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            file.Write(System.Text.Encoding.UTF8.GetBytes(reason.ReplaceLineEndings(" ") + "\n"));
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(System.IO.Path.Combine(dir, program)));
}
