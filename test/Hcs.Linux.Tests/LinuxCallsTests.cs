// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using Xunit;

namespace Hcs.Linux.Tests;

/// <summary>The path calls of <see cref="LinuxCalls"/> and <see cref="HostCredentials"/> (these tests run as root).</summary>
public sealed class LinuxCallsTests : IDisposable
{
    private const uint Nobody = 65534;
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-linux-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MakeFifo_MakesAFifo_AndRefusesAnExistingPath()
    {
        var path = Path.Combine(_dir, "f");
        Assert.Equal(0, LinuxCalls.MakeFifo(path, 0x180));
        Assert.True(LinuxCalls.Statx(null, path, LinuxCalls.AT_SYMLINK_NOFOLLOW, LinuxCalls.STATX_TYPE, out var stat));
        Assert.Equal(LinuxCalls.S_IFIFO, stat.Type);
        Assert.Equal(-1, LinuxCalls.MakeFifo(path, 0x180));
        Assert.Equal(LinuxCalls.EEXIST, LinuxCalls.Errno);
    }

    [Fact]
    public void Chown_ChangesOnlyWhatIsAsked_AndStatxReadsTheOwner()
    {
        var path = Path.Combine(_dir, "file");
        File.WriteAllText(path, "x");
        Assert.Equal(0, LinuxCalls.Chown(path, Nobody, uint.MaxValue));
        Assert.True(LinuxCalls.Statx(null, path, 0, LinuxCalls.STATX_UID, out var stat));
        Assert.Equal(Nobody, stat.Uid);
        Assert.Equal(-1, LinuxCalls.Chown(Path.Combine(_dir, "missing"), 0, 0));
        Assert.Equal(LinuxCalls.ENOENT, LinuxCalls.Errno);
    }

    [Fact]
    public void MkdirAndRename_AreTheKernels()
    {
        var made = Path.Combine(_dir, "d");
        Assert.Equal(0, LinuxCalls.Mkdir(made, 0x1C0));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(made));
        Assert.Equal(0, LinuxCalls.Rename(made, made + "2"));
        Assert.True(Directory.Exists(made + "2"));
    }

    [Fact]
    public async Task Credentials_RunWorkWithTheirFileSystemIdentity_OnAThreadOfItsOwn()
    {
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1FF);
        var path = Path.Combine(_dir, "made-by-nobody");
        var credentials = new HostCredentials(Nobody, Nobody, []);
        var thread = await credentials.RunAsync(() =>
        {
            File.WriteAllText(path, "x");
            return Environment.CurrentManagedThreadId;
        });
        Assert.NotEqual(Environment.CurrentManagedThreadId, thread);
        Assert.True(LinuxCalls.Statx(null, path, 0, LinuxCalls.STATX_UID, out var stat));
        Assert.Equal(Nobody, stat.Uid);
        Assert.Equal("uid 65534 (gid 65534)", credentials.ToString());

        // The kernel checks as nobody: a root-only file cannot be read.
        var secret = Path.Combine(_dir, "secret");
        File.WriteAllText(secret, "s");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead);
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => credentials.RunAsync(() => File.ReadAllText(secret)));
    }

    [Fact]
    public async Task ListenUnix_BindsAndListens_AndSaysWhichStepFailed()
    {
        var path = Path.Combine(_dir, "s");
        using (var listener = LinuxCalls.ListenUnix(path, 4, out var failed))
        {
            Assert.NotNull(listener);
            Assert.Null(failed);
            using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path), TestContext.Current.CancellationToken);
            using var accepted = await listener.AcceptAsync(TestContext.Current.CancellationToken);
            var peer = PeerCredentials.Of(accepted);
            Assert.Equal(Environment.ProcessId, peer.Pid);
            Assert.Equal(HostCredentials.EffectiveUid, peer.Uid);
        }

        Assert.Null(LinuxCalls.ListenUnix(path, 4, out var step)); // the path is taken
        Assert.Equal("bind", step);
        Assert.Equal(LinuxCalls.EADDRINUSE, LinuxCalls.Errno);
    }
}
