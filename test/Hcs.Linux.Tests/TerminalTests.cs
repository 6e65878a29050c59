// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Microsoft.Win32.SafeHandles;
using Xunit;

namespace Hcs.Linux.Tests;

/// <summary><see cref="Terminal"/> on a real pseudo-terminal (the master side of <c>/dev/ptmx</c> is a terminal too).</summary>
public sealed class TerminalTests
{
    private const uint ECHO = 0x8, ICANON = 0x2, ISIG = 0x1;

    [Fact]
    public void RawMode_TurnsOffEchoLinesAndSignals_AndDisposeRestoresTheSettings()
    {
        using var pty = OpenPty();
        var fd = (int)pty.DangerousGetHandle();
        Assert.True(Terminal.IsTerminal(fd));
        var before = Terminal.LocalModes(fd)!.Value;
        Assert.NotEqual(0u, before & ECHO);
        Assert.NotEqual(0u, before & ICANON);

        using (var raw = Terminal.EnterRawMode(fd))
        {
            Assert.NotNull(raw);
            Assert.Equal(0u, Terminal.LocalModes(fd)!.Value & (ECHO | ICANON | ISIG));
        }

        Assert.Equal(before, Terminal.LocalModes(fd));
    }

    [Fact]
    public void Size_IsTheWindowSize_AndNullWithoutOne()
    {
        using var pty = OpenPty();
        var fd = (int)pty.DangerousGetHandle();
        Assert.Null(Terminal.Size(fd)); // a new pty has no size (0 x 0)
        Assert.True(Terminal.Resize(fd, 42, 132));
        Assert.Equal(((ushort)42, (ushort)132), Terminal.Size(fd));
    }

    [Fact]
    public void AFileIsNoTerminal()
    {
        using var file = File.OpenHandle("/proc/self/stat");
        var fd = (int)file.DangerousGetHandle();
        Assert.False(Terminal.IsTerminal(fd));
        Assert.Null(Terminal.EnterRawMode(fd));
        Assert.Null(Terminal.Size(fd));
    }

    private static SafeFileHandle OpenPty() => File.OpenHandle("/dev/ptmx", FileMode.Open, FileAccess.ReadWrite);
}
