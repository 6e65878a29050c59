// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// A terminal on a file descriptor, through termios: raw mode (<c>tcgetattr</c>, <c>cfmakeraw</c>,
/// <c>tcsetattr</c>) restored when the returned scope ends or the process exits, and the window size
/// (<c>TIOCGWINSZ</c>).
/// </summary>
public static partial class Terminal
{
    /// <summary>Standard input, output and error.</summary>
    public const int StandardInput = 0, StandardOutput = 1, StandardError = 2;

    private const int TCSANOW = 0, TCSADRAIN = 1;
    private const nuint TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414;

    /// <summary>struct termios is 60 bytes with glibc on x86-64 and arm64; this is room to spare.</summary>
    private const int TermiosBytes = 256;

    /// <summary>True when <paramref name="fd"/> is a terminal.</summary>
    public static bool IsTerminal(int fd) => isatty(fd) == 1;

    /// <summary>The window size (rows, columns) of the terminal on <paramref name="fd"/>; null when it is not one or has no size.</summary>
    public static unsafe (ushort Rows, ushort Columns)? Size(int fd)
    {
        // struct winsize: rows, columns, x pixels, y pixels (each an unsigned short).
        var size = stackalloc ushort[4];
        return ioctl(fd, TIOCGWINSZ, size) == 0 && size[0] > 0 && size[1] > 0 ? (size[0], size[1]) : null;
    }

    /// <summary>
    /// Puts the terminal on <paramref name="fd"/> in raw mode (no echo, no line editing, no signals from keys, no
    /// output processing: <c>cfmakeraw</c>); disposing the result restores the settings it had, as does the process
    /// exiting first. Null when <paramref name="fd"/> is not a terminal or its settings cannot be changed.
    /// </summary>
    public static unsafe IDisposable? EnterRawMode(int fd)
    {
        var saved = new byte[TermiosBytes];
        var raw = new byte[TermiosBytes];
        fixed (byte* savedPointer = saved)
        fixed (byte* rawPointer = raw)
        {
            if (tcgetattr(fd, savedPointer) != 0)
            {
                return null;
            }

            saved.CopyTo(raw, 0);
            cfmakeraw(rawPointer);
            if (tcsetattr(fd, TCSANOW, rawPointer) != 0)
            {
                return null;
            }
        }

        return new RawMode(fd, saved);
    }

    /// <summary>The local modes (<c>c_lflag</c>) of the terminal on <paramref name="fd"/>, or null (for tests: ECHO is 0x8, ICANON 0x2).</summary>
    internal static unsafe uint? LocalModes(int fd)
    {
        var termios = stackalloc byte[TermiosBytes];
        return tcgetattr(fd, termios) == 0 ? *(uint*)(termios + 12) : null;
    }

    /// <summary>Sets the window size of the terminal on <paramref name="fd"/> (<c>TIOCSWINSZ</c>; for tests).</summary>
    internal static unsafe bool Resize(int fd, ushort rows, ushort columns)
    {
        var size = stackalloc ushort[4];
        size[0] = rows;
        size[1] = columns;
        return ioctl(fd, TIOCSWINSZ, size) == 0;
    }

    /// <summary>The settings a terminal had before raw mode, put back once (on dispose or at process exit).</summary>
    private sealed class RawMode : IDisposable
    {
        private readonly int _fd;
        private readonly byte[] _saved;
        private int _restored;

        public RawMode(int fd, byte[] saved)
        {
            _fd = fd;
            _saved = saved;
            AppDomain.CurrentDomain.ProcessExit += OnExit;
        }

        public void Dispose()
        {
            AppDomain.CurrentDomain.ProcessExit -= OnExit;
            Restore();
        }

        private void OnExit(object? sender, EventArgs e) => Restore();

        private unsafe void Restore()
        {
            if (Interlocked.Exchange(ref _restored, 1) == 0)
            {
                fixed (byte* saved = _saved)
                {
                    _ = tcsetattr(_fd, TCSADRAIN, saved);
                }
            }
        }
    }

    [LibraryImport("libc")]
    private static partial int isatty(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ioctl(int fd, nuint request, void* argument);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int tcgetattr(int fd, byte* termios);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int tcsetattr(int fd, int when, byte* termios);

    [LibraryImport("libc")]
    private static unsafe partial void cfmakeraw(byte* termios);
}
