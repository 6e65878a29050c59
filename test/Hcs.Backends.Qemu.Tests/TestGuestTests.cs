// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// The test guest obeys its hcstest= verbs under a real QEMU (TCG), and QMP reports each outcome. Tests in this class
/// run one at a time, so at most one VM boots from here.
/// </summary>
public sealed class TestGuestTests
{
    private static readonly TimeSpan s_boot = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PowerOffVerb_GuestShutdownEvent_AndQemuExits()
    {
        await using var guest = await TestGuest.StartAsync("poweroff:100", [], Ct);
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocket, Ct);
        await qmp.ExecuteAsync("cont", cancellationToken: Ct);
        var shutdown = await NextAsync(qmp, "SHUTDOWN");
        Assert.True(shutdown.Data!.Value.GetProperty("guest").GetBoolean());
        Assert.Equal("guest-shutdown", shutdown.Data.Value.GetProperty("reason").GetString());
        await guest.Process.WaitForExitAsync(Ct).WaitAsync(s_boot, Ct);
        Assert.Equal(0, guest.Process.ExitCode);
        Assert.Contains("hcs-guest: powering off", await File.ReadAllTextAsync(guest.ConsoleLog, Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PanicVerb_WithPvpanic_RaisesGuestPanicked_AndTheConsoleHasThePanicText()
    {
        await using var guest = await TestGuest.StartAsync("panic:100", ["-no-shutdown", "-action", "panic=pause", "-device", "pvpanic-pci"], Ct);
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocket, Ct);
        await qmp.ExecuteAsync("cont", cancellationToken: Ct);
        var panicked = await NextAsync(qmp, "GUEST_PANICKED");
        Assert.Equal("pause", panicked.Data!.Value.GetProperty("action").GetString());
        Assert.Equal("guest-panicked", (await qmp.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());
        await guest.WaitForConsoleAsync("Kernel panic - not syncing", TimeSpan.FromSeconds(10), Ct);
    }

    [Fact]
    public async Task AcpiPowerButton_IsObeyedByTheIdleGuest()
    {
        await using var guest = await TestGuest.StartAsync("idle", [], Ct);
        await using var qmp = await QmpClient.ConnectAsync(guest.QmpSocket, Ct);
        await qmp.ExecuteAsync("cont", cancellationToken: Ct);
        await guest.WaitForConsoleAsync("hcs-guest: idle", s_boot, Ct);
        await qmp.ExecuteAsync("system_powerdown", cancellationToken: Ct);
        Assert.Equal("POWERDOWN", (await NextAsync(qmp, "POWERDOWN")).Name);
        var shutdown = await NextAsync(qmp, "SHUTDOWN");
        Assert.Equal("guest-shutdown", shutdown.Data!.Value.GetProperty("reason").GetString());
        await guest.Process.WaitForExitAsync(Ct).WaitAsync(s_boot, Ct);
        Assert.Equal(0, guest.Process.ExitCode);
    }

    private static async Task<QmpEvent> NextAsync(QmpClient qmp, string name)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(s_boot);
        while (true)
        {
            var e = await qmp.Events.ReadAsync(timeout.Token);
            if (e.Name == name)
            {
                return e;
            }
        }
    }
}
