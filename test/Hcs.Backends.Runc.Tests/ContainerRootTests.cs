// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// <see cref="ContainerRoot"/> on a plain directory standing for a container's root, with <c>openat2</c> and with the
/// component walk used where the kernel has none: symbolic links planted in the root never lead out of it.
/// </summary>
public sealed class ContainerRootTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-root-").FullName;

    public ContainerRootTests()
    {
        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(Outside);
    }

    private string Root => Path.Combine(_dir, "root");

    /// <summary>A host directory outside the root that a planted link names.</summary>
    private string Outside => Path.Combine(_dir, "outside");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<bool> Resolvers => new() { true, false };

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void MakeDirectory_ThroughAnAbsoluteLink_LandsInsideTheRoot(bool openat2)
    {
        Directory.CreateDirectory(Root + Outside);
        File.CreateSymbolicLink(Path.Combine(Root, "m"), Outside);
        using var root = ContainerRoot.Open(Root, openat2);

        using var made = root.MakeDirectory("/m/sub", "$.X");

        Assert.True(Directory.Exists(Root + Outside + "/sub"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
    }

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void MakeDirectory_ThroughDotDotLadenRelativeLinksAndChains_StaysInTheRoot(bool openat2)
    {
        Directory.CreateDirectory(Path.Combine(Root, "a/b"));
        Directory.CreateDirectory(Root + Outside);
        var climb = string.Concat(Enumerable.Repeat("../", 12)) + Outside.TrimStart('/');
        File.CreateSymbolicLink(Path.Combine(Root, "a/b/up"), climb);
        File.CreateSymbolicLink(Path.Combine(Root, "c1"), "/c2");
        File.CreateSymbolicLink(Path.Combine(Root, "c2"), "a/b/up");
        using var root = ContainerRoot.Open(Root, openat2);

        using var made = root.MakeDirectory("/c1/x/y", "$.X");

        Assert.True(Directory.Exists(Root + Outside + "/x/y"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
    }

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void MakeDirectory_ThroughALinkToNothingInTheRoot_FailsAndCreatesNothingOnTheHost(bool openat2)
    {
        File.CreateSymbolicLink(Path.Combine(Root, "m"), Outside + "/new");
        using var root = ContainerRoot.Open(Root, openat2);

        var e = Assert.Throws<HcsException>(() => root.MakeDirectory("/m", "$.Settings.ContainerPath"));

        Assert.Equal(HResults.E_INVALIDARG, e.HResult);
        Assert.Contains("$.Settings.ContainerPath", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("'/m'", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Outside));
    }

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void ALoopOfLinks_IsRefused(bool openat2)
    {
        File.CreateSymbolicLink(Path.Combine(Root, "l1"), "/l2");
        File.CreateSymbolicLink(Path.Combine(Root, "l2"), "/l1");
        using var root = ContainerRoot.Open(Root, openat2);

        var e = Assert.Throws<HcsException>(() => root.MakeDirectory("/l1/x", "$.X"));

        Assert.Equal(HResults.E_INVALIDARG, e.HResult);
    }

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void ReadRegularFile_ThroughAnEtcLinkOutOfTheRoot_ReadsTheRootsCopy(bool openat2)
    {
        Directory.CreateDirectory(Root + Outside);
        File.WriteAllText(Root + Outside + "/passwd", "inside");
        File.WriteAllText(Outside + "/passwd", "host");
        File.CreateSymbolicLink(Path.Combine(Root, "etc"), Outside);
        using var root = ContainerRoot.Open(Root, openat2);

        Assert.Equal("inside"u8.ToArray(), root.ReadRegularFile("/etc/passwd", 100, "$.User"));
        Assert.Null(root.ReadRegularFile("/etc/group", 100, "$.User"));
    }

    [Theory]
    [MemberData(nameof(Resolvers))]
    public void ReadRegularFile_RefusesAFifoALinkAndAnOversizedFile_WithoutBlocking(bool openat2)
    {
        Directory.CreateDirectory(Path.Combine(Root, "etc"));
        Run("mkfifo", Path.Combine(Root, "etc/fifo"));
        File.CreateSymbolicLink(Path.Combine(Root, "etc/link"), "fifo");
        File.WriteAllText(Path.Combine(Root, "etc/big"), new string('x', 101));
        using var root = ContainerRoot.Open(Root, openat2);

        var fifo = Assert.Throws<HcsException>(() => root.ReadRegularFile("/etc/fifo", 100, "$.User"));
        Assert.Equal(HResults.E_INVALIDARG, fifo.HResult);
        Assert.Contains("a FIFO", fifo.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(HResults.E_INVALIDARG, Assert.Throws<HcsException>(() => root.ReadRegularFile("/etc/link", 100, "$.User")).HResult);
        var big = Assert.Throws<HcsException>(() => root.ReadRegularFile("/etc/big", 100, "$.User"));
        Assert.Contains("larger than 100 bytes", big.Result.ErrorMessage, StringComparison.Ordinal);
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(file, ["--", .. arguments]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
