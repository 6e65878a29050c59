// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Engine.Backends;

namespace Hcs.Backends.Qemu;

/// <summary>
/// A VM's serial console log, bounded on disk. QEMU's console chardev logs into a FIFO (<c>console.fifo</c>), never a
/// file it could grow without limit; this pump reads the FIFO on a thread of its own and appends to <c>console.log</c>
/// (0600), rotating it to <c>console.log.1</c> when it would pass <see cref="QemuSettings.ConsoleLogMaxBytes"/>: at most
/// twice that is ever on disk. While nobody reads the FIFO (the service is down) QEMU's writes fail (EPIPE; QEMU
/// ignores SIGPIPE) and that output is lost, not buffered. Crash reports and errors read only the log's tail
/// (<see cref="ReadTailAsync"/>), never the whole file.
/// </summary>
internal sealed class ConsoleLog : IDisposable
{
    /// <summary>The FIFO QEMU's console chardev logs into.</summary>
    public const string Fifo = "console.fifo";

    /// <summary>The rotated log (the output before <see cref="QemuCommandLine.ConsoleLog"/>).</summary>
    public const string Rotated = QemuCommandLine.ConsoleLog + ".1";

    /// <summary>How much of the console a crash report or an error quotes (64 KiB).</summary>
    public const int TailBytes = 64 * 1024;

    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(5);

    private readonly string _fifo;
    private readonly string _log;
    private readonly string _rotated;
    private readonly long _maxBytes;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;

    private ConsoleLog(string runtimeDirectory, long maxBytes, string id)
    {
        _fifo = Path.Combine(runtimeDirectory, Fifo);
        _log = Path.Combine(runtimeDirectory, QemuCommandLine.ConsoleLog);
        _rotated = Path.Combine(runtimeDirectory, Rotated);
        _maxBytes = Math.Max(maxBytes, 4096);
        _thread = new Thread(Pump) { IsBackground = true, Name = $"console {id}" };
    }

    /// <summary>
    /// Makes the FIFO of a new VM's runtime directory (0600) and starts reading it, before QEMU is launched (QEMU's
    /// open of its log blocks until a reader has it open).
    /// </summary>
    public static ConsoleLog Create(string runtimeDirectory, long maxBytes, string id)
    {
        MakeFifo(Path.Combine(runtimeDirectory, Fifo));
        var pump = new ConsoleLog(runtimeDirectory, maxBytes, id);
        pump._thread.Start();
        return pump;
    }

    /// <summary>Resumes reading the FIFO of an adopted VM; null when its runtime directory has none (an older layout).</summary>
    public static ConsoleLog? Resume(string runtimeDirectory, long maxBytes, string id)
    {
        if (!File.Exists(Path.Combine(runtimeDirectory, Fifo)))
        {
            return null;
        }

        var pump = new ConsoleLog(runtimeDirectory, maxBytes, id);
        pump._thread.Start();
        return pump;
    }

    /// <summary>
    /// The last <paramref name="maxBytes"/> bytes of the console (the rotated log's end, then the log), decoded as UTF-8;
    /// empty when there is none. Reads at most <paramref name="maxBytes"/>, whatever the files' sizes.
    /// </summary>
    public static async Task<string> ReadTailAsync(string runtimeDirectory, int maxBytes = TailBytes)
    {
        var current = await ReadFileTailAsync(Path.Combine(runtimeDirectory, QemuCommandLine.ConsoleLog), maxBytes).ConfigureAwait(false);
        var before = current.Length < maxBytes
            ? await ReadFileTailAsync(Path.Combine(runtimeDirectory, Rotated), maxBytes - current.Length).ConfigureAwait(false)
            : [];
        return Encoding.UTF8.GetString([.. before, .. current]);
    }

    /// <summary>The last <paramref name="maxBytes"/> bytes of <paramref name="path"/> (empty when it is missing or unreadable).</summary>
    public static async Task<byte[]> ReadFileTailAsync(string path, int maxBytes)
    {
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                var length = file.Length;
                var take = (int)Math.Min(length, maxBytes);
                file.Position = length - take;
                var buffer = new byte[take];
                var read = await file.ReadAtLeastAsync(buffer, take, throwOnEndOfStream: false).ConfigureAwait(false);
                return read == take ? buffer : buffer[..read];
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Completes when the pump has ended: QEMU closed its end and everything it wrote is in the log (or it was stopped).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Stops reading (the VM ended, or the service detaches from it) and waits, bounded, for the pump to finish.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        if (!_thread.IsAlive)
        {
            return;
        }

        // Wakes the pump wherever it blocks: opening the FIFO (a writer appears) or reading it (a byte arrives).
        // Opened read-write, which never blocks on Linux, whether or not a reader is left, and held open until the pump
        // has ended: a pump that had not yet opened the FIFO then still finds a writer and the byte (closing it first
        // would discard the byte and leave that open blocked).
        try
        {
            using var wake = new FileStream(_fifo, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            wake.WriteByte((byte)'\n');
            _thread.Join(s_stopTimeout);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The FIFO is gone (the runtime directory was removed): the pump's read has ended or will.
        }

        _thread.Join(s_stopTimeout);
    }

    private void Pump()
    {
        try
        {
            // Blocks until QEMU opens its end for writing (or Dispose wakes it).
            using var fifo = new FileStream(_fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            FileStream? log = null;
            try
            {
                log = OpenLog();
                var buffer = new byte[16 * 1024];
                int read;
                while ((read = fifo.Read(buffer)) > 0)
                {
                    if (log.Length + read > _maxBytes)
                    {
                        log.Dispose();
                        File.Move(_log, _rotated, overwrite: true);
                        log = OpenLog();
                    }

                    // A single read never exceeds the buffer, far below the cap: one chunk always fits a fresh file.
                    log.Write(buffer, 0, read);
                    if (_stopping)
                    {
                        break;
                    }
                }
            }
            finally
            {
                log?.Dispose();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The runtime directory went away under us (the VM was removed): nothing more to log.
        }
        finally
        {
            _completion.TrySetResult();
        }
    }

    // Shared, so the tail can be read (and the log rotated) while the pump writes.
    private FileStream OpenLog() => PrivateFiles.Open(_log, FileMode.Append, bufferSize: 1, share: FileShare.ReadWrite | FileShare.Delete);

    private static void MakeFifo(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the console FIFO is made on Linux only");
        }

        if (LinuxCalls.MakeFifo(path, 0x180 /* 0600 */) != 0)
        {
            throw new IOException($"mkfifo {path} failed: {LinuxCalls.Describe(LinuxCalls.Errno)}");
        }

        // Exactly 0600 whatever the umask (as mkfifo -m did): QEMU, running as the service, must be able to write it.
        File.SetUnixFileMode(path, PrivateFiles.FileMode);
    }
}
