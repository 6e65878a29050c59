// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Text;
using Xunit;

namespace Hcs.Linux.Tests;

public sealed class UnixSocketPathsTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-usp-");

    public void Dispose() => _temp.Delete(recursive: true);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A directory whose path is <paramref name="bytes"/> bytes long (in components of at most 100 bytes).</summary>
    private string LongDirectory(int bytes)
    {
        var path = _temp.FullName;
        while (path.Length < bytes)
        {
            path += "/" + new string('d', Math.Min(100, Math.Max(1, bytes - path.Length - 1)));
        }

        Directory.CreateDirectory(path);
        return path;
    }

    [Theory]
    [InlineData(60)]
    [InlineData(150)]
    [InlineData(1000)]
    public async Task ASocketAtAPathLongerThanASocketAddress_IsBoundAndConnected(int directoryBytes)
    {
        var path = Path.Combine(LongDirectory(directoryBytes), "a.sock");
        using var listener = UnixSocketPaths.Listen(path, 1);
        Assert.True(IsSocket(path), $"{path} is a socket");
        using var client = await UnixSocketPaths.ConnectAsync(path, Ct);
        using var server = await listener.AcceptAsync(Ct);
        await client.SendAsync("ping"u8.ToArray(), Ct);
        var buffer = new byte[4];
        Assert.Equal(4, await server.ReceiveAsync(buffer, Ct));
        Assert.Equal("ping", Encoding.ASCII.GetString(buffer));

        using var blocking = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        UnixSocketPaths.Connect(blocking, path);
        Assert.True(blocking.Connected);
    }

    [Fact]
    public void DisposingTheListener_LeavesTheSocketFile_ForTheCallerToRemove()
    {
        var path = Path.Combine(LongDirectory(200), "b.sock");
        UnixSocketPaths.Listen(path, 1).Dispose();
        Assert.True(IsSocket(path), $"{path} is a socket");
    }

    [Fact]
    public async Task Connect_ToAMissingSocketOrDirectory_IsAddressNotAvailable_AndListenOnAnExistingFileIsAddressInUse()
    {
        var directory = LongDirectory(200);
        var missing = await Assert.ThrowsAsync<SocketException>(() => UnixSocketPaths.ConnectAsync(Path.Combine(directory, "none.sock"), Ct));
        Assert.Equal(SocketError.AddressNotAvailable, missing.SocketErrorCode);
        var noDirectory = await Assert.ThrowsAsync<SocketException>(() => UnixSocketPaths.ConnectAsync(Path.Combine(directory, "no", "x.sock"), Ct));
        Assert.Equal(SocketError.AddressNotAvailable, noDirectory.SocketErrorCode);
        Assert.Contains(Path.Combine(directory, "no", "x.sock"), noDirectory.Message, StringComparison.Ordinal);

        var taken = Path.Combine(directory, "taken");
        File.WriteAllText(taken, "");
        Assert.Equal(SocketError.AddressAlreadyInUse, Assert.Throws<SocketException>(() => UnixSocketPaths.Listen(taken, 1)).SocketErrorCode);
    }

    [Fact]
    public void AFileNameTooLongForTheShortForm_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => UnixSocketPaths.Listen(Path.Combine(_temp.FullName, new string('n', UnixSocketPaths.MaxName + 1)), 1));
        Assert.Contains("file name", e.Message, StringComparison.Ordinal);
    }

    private static bool IsSocket(string path) => LinuxCalls.Statx(null, path, LinuxCalls.AT_SYMLINK_NOFOLLOW, LinuxCalls.STATX_TYPE, out var result)
        && (result.Mode & LinuxCalls.S_IFMT) == LinuxCalls.S_IFSOCK;
}
