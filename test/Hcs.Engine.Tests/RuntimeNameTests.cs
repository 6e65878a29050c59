// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>
/// <see cref="LinuxHost.RuntimeName"/> (the one id → host name mapping of the QEMU and runc backends) and
/// <see cref="LinuxHost.CreateRuntimeDirectory"/> (a runtime directory is made, never cleared). docs/security.md, Ids.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RuntimeNameTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("hcs-names-");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => _root.Delete(recursive: true);

    private static bool Short(string id) => id.Length <= 40;

    [Theory]
    [InlineData("vm1")]
    [InlineData("-rf")]
    [InlineData("h-web")]
    [InlineData("h-0123456789abcdef0123456")] // 23 digits: not the shape
    [InlineData("h-0123456789ABCDEF01234567")] // upper case: not the shape
    public void AnOrdinaryIdThatFits_IsItsOwnName(string id) => Assert.Equal(id, LinuxHost.RuntimeName(id, Short));

    [Fact]
    public void AnIdThatDoesNotFit_IsHashed_TheSameWayEveryTime()
    {
        var id = new string('x', 41);
        var name = LinuxHost.RuntimeName(id, Short);
        Assert.Matches("^h-[0-9a-f]{24}$", name);
        Assert.Equal(name, LinuxHost.RuntimeName(id, Short));
        Assert.True(LinuxHost.IsHashedName(name));
    }

    [Fact]
    public void AnIdShapedLikeAHashedName_IsHashed_SoNoIdNamesWhatAnotherWasHashedTo()
    {
        var hashed = LinuxHost.RuntimeName(new string('x', 41), Short);
        Assert.NotEqual(hashed, LinuxHost.RuntimeName(hashed, Short));
        Assert.NotEqual(hashed, LinuxHost.RuntimeName(hashed, _ => true));
    }

    [Fact]
    public void TheMapping_IsInjective_OverIdsAndTheHashedNamesOfOthers()
    {
        List<string> ids = ["a", "-rf", "--help", "h-", "h-web", new string('y', 41), new string('z', 60), "{6f1d2c3b-1111-2222-3333-444455556666}"];
        ids.AddRange(ids.Select(id => LinuxHost.RuntimeName(id, Short)).ToList());
        ids = [.. ids.Distinct()];
        var names = ids.Select(id => LinuxHost.RuntimeName(id, Short)).ToList();
        Assert.Equal(ids.Count, names.Distinct().Count());
    }

    [Fact]
    public void CreateRuntimeDirectory_WhenAnythingIsThere_IsRefused_AndRemovesNothing()
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root.FullName, "dir"));
        File.WriteAllText(Path.Combine(directory.FullName, "theirs"), "x");
        var file = Path.Combine(_root.FullName, "file");
        File.WriteAllText(file, "x");
        var dangling = Path.Combine(_root.FullName, "dangling");
        File.CreateSymbolicLink(dangling, "/nonexistent/target");

        foreach (var path in (string[])[directory.FullName, file, dangling])
        {
            var e = Assert.Throws<HcsException>(() => LinuxHost.CreateRuntimeDirectory(path, "id1", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "Test.Create"));
            Assert.Equal(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, e.HResult);
            Assert.Contains(path, e.Message, StringComparison.Ordinal);
        }

        Assert.Equal([Path.Combine(directory.FullName, "theirs")], Directory.GetFileSystemEntries(directory.FullName));
        Assert.Equal("x", File.ReadAllText(file));
        Assert.Equal("/nonexistent/target", new FileInfo(dangling).LinkTarget);
    }

    [Fact]
    public async Task CreateRuntimeDirectory_OfCallersRacingForOnePath_HasExactlyOneWinner()
    {
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(_root.FullName, $"race{round}");
            using var go = new ManualResetEventSlim();
            var racers = Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            {
                go.Wait(Ct);
                try
                {
                    LinuxHost.CreateRuntimeDirectory(path, $"id{i}", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "Test.Create");
                    return true;
                }
                catch (HcsException e) when (e.HResult == HResults.HCS_E_SYSTEM_ALREADY_EXISTS)
                {
                    return false;
                }
            }, Ct)).ToList();
            go.Set();
            var won = await Task.WhenAll(racers);
            Assert.Single(won, w => w);
            Assert.True(File.Exists(Path.Combine(path, LinuxHost.RuntimeDirectoryClaim)));
        }
    }

    [Fact]
    public void HoldsClaimOf_IsTheSameDirectory_HoweverItIsSpelt()
    {
        var mine = Path.Combine(_root.FullName, "mine");
        var other = Path.Combine(_root.FullName, "other");
        LinuxHost.CreateRuntimeDirectory(mine, "same", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "Test.Create");
        LinuxHost.CreateRuntimeDirectory(other, "same", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, "Test.Create");
        var link = Path.Combine(_root.FullName, "link");
        Directory.CreateSymbolicLink(link, mine);

        Assert.True(LinuxHost.HoldsClaimOf(link, mine));
        Assert.True(LinuxHost.HoldsClaimOf(mine, mine));
        Assert.False(LinuxHost.HoldsClaimOf(other, mine)); // same id, another Create
        Assert.False(LinuxHost.HoldsClaimOf(_root.FullName, mine)); // no claim
    }
}
