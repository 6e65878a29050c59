// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The accelerator setting and its bounded probe.</summary>
public sealed class AcceleratorProbeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<AcceleratorProbe.Result> Resolve(string setting, TimeSpan bound) =>
        AcceleratorProbe.ResolveAsync(setting, "qemu-system-x86_64", Path.Combine(TestGuest.GuestDirectory, "vmlinuz"),
            Path.Combine(TestGuest.GuestDirectory, "initrd.cpio.gz"), bound, cancellationToken: Ct);

    [Theory]
    [InlineData("tcg")]
    [InlineData("kvm")]
    public async Task ExplicitSettings_AreUsedWithoutProbing(string setting) =>
        Assert.Equal(setting, (await Resolve(setting, TimeSpan.FromSeconds(1))).Accelerator);

    [Fact]
    public async Task UnknownSetting_IsRefused() =>
        await Assert.ThrowsAsync<ArgumentException>(() => Resolve("hvf", TimeSpan.FromSeconds(1)));

    [Fact]
    public async Task Auto_ReturnsWithinItsBound_AndPicksKvmOnlyIfAGuestRanUnderIt()
    {
        var bound = TimeSpan.FromSeconds(4);
        var clock = Stopwatch.StartNew();
        var result = await Resolve("auto", bound);
        Assert.True(clock.Elapsed < bound + TimeSpan.FromSeconds(5), $"the probe took {clock.Elapsed}");
        Assert.Contains(result.Accelerator, (string[])["kvm", "tcg"]);
        if (result.Accelerator == "kvm")
        {
            Assert.Contains("powered off", result.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        }
    }

    [Theory]
    [InlineData("exit 0", "kvm")]
    [InlineData("echo 'could not access KVM kernel module' >&2; exit 1", "tcg")]
    [InlineData("exec sleep 60", "tcg")]
    public async Task Auto_WithKvmPresent_ProbesWithABound(string standIn, string expected)
    {
        // A stand-in for qemu: succeeds at once, fails, or hangs like a guest crawling under nested PVM.
        var dir = Directory.CreateTempSubdirectory("hcs-probe-");
        try
        {
            var qemu = Path.Combine(dir.FullName, "qemu");
            await File.WriteAllTextAsync(qemu, $"#!/bin/sh\n{standIn}\n", Ct);
            File.SetUnixFileMode(qemu, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var device = Path.Combine(dir.FullName, "kvm");
            await File.WriteAllTextAsync(device, "", Ct);
            var clock = Stopwatch.StartNew();
            var result = await AcceleratorProbe.ResolveAsync("auto", qemu, "/boot/vmlinuz", "/boot/initrd", TimeSpan.FromSeconds(1), device, Ct);
            Assert.Equal(expected, result.Accelerator);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"the probe took {clock.Elapsed}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
