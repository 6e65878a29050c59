// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The QMP client against a real qemu-system-x86_64 (installed by build.sh), started paused with no guest.</summary>
public sealed class QmpClientRealQemuTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RealQemu_PausedStartContStopQuit_EventsAndExit()
    {
        Requires.Qemu();
        var dir = Directory.CreateTempSubdirectory("hcs-qmp-");
        var socket = Path.Combine(dir.FullName, "qmp.sock");
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in (string[])["-accel", "tcg", "-M", "q35", "-m", "64", "-nodefaults", "-display", "none", "-S",
                     "-qmp", $"unix:{socket},server=on,wait=off"])
        {
            start.ArgumentList.Add(arg);
        }

        using var qemu = Process.Start(start)!;
        try
        {
            var deadline = Stopwatch.StartNew();
            while (!File.Exists(socket) && deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10, Ct);
            }

            await using var client = await QmpClient.ConnectAsync(socket, Ct);
            Assert.Equal(7, client.Greeting.Major);
            Assert.Equal("prelaunch", (await client.ExecuteAsync("query-status", cancellationToken: Ct)).GetProperty("status").GetString());
            await client.ExecuteAsync("cont", cancellationToken: Ct);
            Assert.Equal("RESUME", (await client.Events.ReadAsync(Ct)).Name);
            await client.ExecuteAsync("stop", cancellationToken: Ct);
            Assert.Equal("STOP", (await client.Events.ReadAsync(Ct)).Name);
            await client.ExecuteAsync("quit", cancellationToken: Ct);
            var shutdown = await client.Events.ReadAsync(Ct);
            Assert.Equal("SHUTDOWN", shutdown.Name);
            Assert.Contains(await client.Closed.WaitAsync(TimeSpan.FromSeconds(10), Ct), (QmpCloseReason[])[QmpCloseReason.EndOfStream, QmpCloseReason.ConnectionReset]);
            await qemu.WaitForExitAsync(Ct).WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(0, qemu.ExitCode);
        }
        finally
        {
            if (!qemu.HasExited)
            {
                qemu.Kill();
            }

            dir.Delete(recursive: true);
        }
    }
}
