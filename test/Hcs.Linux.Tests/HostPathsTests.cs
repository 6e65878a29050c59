// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Linux.Tests;

public sealed class HostPathsTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/var/lib/hcs/disk.vhdx")]
    [InlineData("/a/..b/c..")]
    [InlineData("/with space/and,comma")]
    public void Problem_IsNull_ForAnAbsolutePathWithoutDotDotOrControlCharacters(string path)
    {
        Assert.Null(HostPaths.Problem(path));
        Assert.True(HostPaths.IsValid(path));
    }

    [Theory]
    [InlineData(null, "a path is required")]
    [InlineData("", "a path is required")]
    [InlineData("relative/path", "'relative/path' is not an absolute path")]
    [InlineData("/a/../etc", "'/a/../etc' contains a '..' segment")]
    [InlineData("/a/..", "'/a/..' contains a '..' segment")]
    [InlineData("/a\nb", "control character U+000A is not allowed in a path")]
    [InlineData("rel\0", "control character U+0000 is not allowed in a path")]
    public void Problem_SaysWhatIsWrong(string? path, string problem)
    {
        Assert.Equal(problem, HostPaths.Problem(path));
        Assert.False(HostPaths.IsValid(path));
    }

    [Fact]
    public void Problem_QuotesThePathTheCallersWay() =>
        Assert.Equal("'rel…' is not an absolute path", HostPaths.Problem("relative", p => p[..3] + "…"));
}
