// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Resolves the accelerator setting <c>auto|kvm|tcg</c>. <c>auto</c> uses KVM only when a bounded probe proves a guest
/// actually runs under it: the probe boots the given kernel and initramfs (whose init powers off at once) with
/// <c>-accel kvm</c> and requires it to power off within the bound. On hosts where <c>/dev/kvm</c> opens but guests
/// crawl (nested PVM), the probe is killed at the bound and TCG is chosen. Nothing here can hang past the bound.
/// </summary>
public static class AcceleratorProbe
{
    /// <summary>The outcome of a probe.</summary>
    /// <param name="Accelerator"><c>kvm</c> or <c>tcg</c>.</param>
    /// <param name="Reason">Why, for logs.</param>
    public sealed record Result(string Accelerator, string Reason);

    /// <summary>Resolves <paramref name="setting"/>; only <c>auto</c> probes (when <paramref name="kvmDevice"/> exists).</summary>
    public static async Task<Result> ResolveAsync(string setting, string qemuBinary, string kernel, string initrd, TimeSpan bound,
        string kvmDevice = "/dev/kvm", CancellationToken cancellationToken = default)
    {
        switch (setting)
        {
            case "tcg":
                return new Result("tcg", "configured");
            case "kvm":
                return new Result("kvm", "configured");
            case not "auto":
                throw new ArgumentException($"accelerator must be auto, kvm or tcg, not '{setting}'", nameof(setting));
        }

        if (!File.Exists(kvmDevice))
        {
            return new Result("tcg", $"{kvmDevice} does not exist");
        }

        string[] arguments = ["-accel", "kvm", "-M", "q35", "-m", "128", "-nodefaults", "-display", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet panic=-1 hcstest=poweroff"];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(bound);
        var clock = Stopwatch.StartNew();
        HostCommand.Result probe;
        try
        {
            probe = await HostCommand.RunAsync(qemuBinary, arguments, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Result("tcg", $"a KVM guest did not power off within {bound.TotalSeconds:0.#} s (KVM present but unusable)");
        }

        return probe.ExitCode == 0
            ? new Result("kvm", $"a KVM guest booted and powered off in {clock.Elapsed.TotalSeconds:0.##} s")
            : new Result("tcg", $"qemu -accel kvm failed ({probe.ExitCode}): {probe.StandardError.Trim()}");
    }
}
