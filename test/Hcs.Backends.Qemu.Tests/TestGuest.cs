// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// Runs the test guest (artifacts/guest, built by build.sh from guest/) in a raw QEMU, without a shell, with QMP and
/// the serial console on sockets (the console also logged to a file). Under TCG a boot costs ~2.5–3 CPU-seconds.
/// </summary>
internal sealed class TestGuest : IAsyncDisposable
{
    private readonly DirectoryInfo _dir;
    private readonly Process _qemu;

    private TestGuest(DirectoryInfo dir, Process qemu)
    {
        _dir = dir;
        _qemu = qemu;
    }

    public string QmpSocket => Path.Combine(_dir.FullName, "qmp.sock");

    public string ConsoleLog => Path.Combine(_dir.FullName, "console.log");

    public Process Process => _qemu;

    public static string GuestDirectory => GuestImage.Directory;

    /// <summary>The create document of the test guest (see <see cref="GuestImage.Document"/>).</summary>
    public static Schema.ComputeSystem Document(string verb, Schema.Devices? devices = null, Schema.VirtualMachineProcessor? processor = null,
        string owner = "qemu-tests") => GuestImage.Document(verb, devices, processor, owner);

    public static async Task<TestGuest> StartAsync(string verb, string[] extra, CancellationToken cancellationToken)
    {
        Requires.Qemu();
        var guest = GuestDirectory;
        var dir = Directory.CreateTempSubdirectory("hcs-guest-");
        var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardError = true, RedirectStandardOutput = true };
        string[] args =
        [
            "-accel", "tcg", "-M", "q35", "-m", "256", "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot", "-S",
            "-kernel", Path.Combine(guest, "vmlinuz"), "-initrd", Path.Combine(guest, "initrd.cpio.gz"),
            "-append", $"console=ttyS0 quiet panic=-1 hcstest={verb}",
            "-chardev", $"socket,id=con,path={Path.Combine(dir.FullName, "console.sock")},server=on,wait=off,logfile={Path.Combine(dir.FullName, "console.log")}",
            "-serial", "chardev:con",
            "-qmp", $"unix:{Path.Combine(dir.FullName, "qmp.sock")},server=on,wait=off",
            .. extra,
        ];
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var qemu = Process.Start(start)!;
        var result = new TestGuest(dir, qemu);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(result.QmpSocket))
        {
            if (qemu.HasExited || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                await result.DisposeAsync();
                throw new InvalidOperationException($"qemu did not open its QMP socket: {await qemu.StandardError.ReadToEndAsync(cancellationToken)}");
            }

            await Task.Delay(10, cancellationToken);
        }

        return result;
    }

    /// <summary>Waits until the console log contains <paramref name="text"/>.</summary>
    public async Task WaitForConsoleAsync(string text, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (File.Exists(ConsoleLog) && (await File.ReadAllTextAsync(ConsoleLog, cancellationToken)).Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new TimeoutException($"'{text}' not on the console within {timeout}; console: {(File.Exists(ConsoleLog) ? await File.ReadAllTextAsync(ConsoleLog, cancellationToken) : "(none)")}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_qemu.HasExited)
        {
            _qemu.Kill();
            await _qemu.WaitForExitAsync();
        }

        _qemu.Dispose();
        _dir.Delete(recursive: true);
    }
}
