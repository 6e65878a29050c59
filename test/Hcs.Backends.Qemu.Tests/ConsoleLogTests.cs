// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;
using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The console log's pump and tail reads, without QEMU: a writer on the FIFO plays QEMU's chardev.</summary>
public sealed class ConsoleLogTests : IDisposable
{
    private readonly DirectoryInfo _run = Directory.CreateTempSubdirectory("hcs-console-");

    public void Dispose() => _run.Delete(recursive: true);

    [Fact]
    public async Task Pump_KeepsAtMostTwiceTheCapOnDisk_AndTheNewestLinesInTheLog()
    {
        const long Cap = 16 * 1024;
        var lines = 0;
        using (var pump = ConsoleLog.Create(_run.FullName, Cap, "t"))
        {
            using (var qemu = new FileStream(Path.Combine(_run.FullName, ConsoleLog.Fifo), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1))
            {
                for (; lines < 20_000; lines++)
                {
                    qemu.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"line {lines}\n")));
                }
            }

            // QEMU closed its end: the pump reads to EOF and ends on its own.
            await pump.Completion.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }

        var log = new FileInfo(Path.Combine(_run.FullName, QemuCommandLine.ConsoleLog));
        var rotated = new FileInfo(Path.Combine(_run.FullName, ConsoleLog.Rotated));
        Assert.True(log.Length <= Cap, $"console.log is {log.Length} bytes");
        Assert.True(rotated.Exists && rotated.Length <= Cap, $"console.log.1 is {(rotated.Exists ? rotated.Length : -1)} bytes");
        Assert.EndsWith($"line {lines - 1}\n", File.ReadAllText(log.FullName), StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log.FullName));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_run.FullName, ConsoleLog.Fifo)));
    }

    [Fact]
    public async Task ReadTail_WhileThePumpWrites_SeesTheLatestOutput()
    {
        using var pump = ConsoleLog.Create(_run.FullName, 1 << 20, "live");
        using var qemu = new FileStream(Path.Combine(_run.FullName, ConsoleLog.Fifo), FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1);
        qemu.Write("hcs-guest: idle\n"u8);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await ConsoleLog.ReadTailAsync(_run.FullName)).Contains("hcs-guest: idle", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the tail never showed the line the pump is holding open");
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public void Dispose_StopsAPumpWhoseQemuNeverOpenedTheFifo()
    {
        var pump = ConsoleLog.Create(_run.FullName, 4096, "never");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pump.Dispose();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"Dispose took {clock.Elapsed}");
    }

    [Fact]
    public async Task ReadTail_OfAHugeLog_ReadsOnlyTheTail()
    {
        var path = Path.Combine(_run.FullName, QemuCommandLine.ConsoleLog);
        using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
        {
            file.SetLength(2L << 30); // 2 GiB, sparse
            file.Position = file.Length - 5;
            file.Write("panic"u8);
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var tail = await ConsoleLog.ReadTailAsync(_run.FullName);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.EndsWith("panic", tail, StringComparison.Ordinal);
        Assert.True(Encoding.UTF8.GetByteCount(tail) <= ConsoleLog.TailBytes * 3, $"{tail.Length} chars");
        Assert.True(allocated < 8 << 20, $"reading the tail allocated {allocated} bytes");
    }

    [Fact]
    public async Task ReadTail_JoinsTheRotatedLogsEndAndTheLog()
    {
        await File.WriteAllTextAsync(Path.Combine(_run.FullName, ConsoleLog.Rotated), new string('a', 100) + "older\n", TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(Path.Combine(_run.FullName, QemuCommandLine.ConsoleLog), "newer\n", TestContext.Current.CancellationToken);

        Assert.Equal("older\nnewer\n", await ConsoleLog.ReadTailAsync(_run.FullName, 12));
    }
}
