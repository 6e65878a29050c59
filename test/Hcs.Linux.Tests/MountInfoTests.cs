// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Linux.Tests;

/// <summary><see cref="MountInfo"/> on lines as the kernel writes them (proc(5) and this kind of host).</summary>
public sealed class MountInfoTests
{
    private const string Table = """
        22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        25 22 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
        26 22 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:4 master:2 - cgroup2 cgroup2 rw,nsdelegate
        27 22 0:25 / /run/hcs/c1/rootfs rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
        28 27 8:1 /srv/data\040dir /run/hcs/c1/rootfs/mnt/my\040data rw,relatime shared:1 - ext4 /dev/sda1 rw
        29 22 0:26 / /run/hcs/c10 rw - tmpfs tmpfs rw
        30 27 0:25 / /run/hcs/c1/rootfs rw,relatime - overlay overlay rw
        not a mount line
        """;

    [Fact]
    public void Parse_ReadsEveryField_WithOptionalFieldsUpToTheSeparator()
    {
        var entry = MountInfo.Parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")!;
        Assert.Equal(36, entry.MountId);
        Assert.Equal(35, entry.ParentId);
        Assert.Equal("98:0", entry.Device);
        Assert.Equal("/mnt1", entry.Root);
        Assert.Equal("/mnt2", entry.MountPoint);
        Assert.Equal("rw,noatime", entry.MountOptions);
        Assert.Equal(["master:1"], entry.OptionalFields);
        Assert.Equal("ext3", entry.FileSystemType);
        Assert.Equal("/dev/root", entry.Source);
        Assert.Equal("rw,errors=continue", entry.SuperOptions);
    }

    [Fact]
    public void Parse_TakesNoneOrSeveralOptionalFields()
    {
        var entries = MountInfo.ParseTable(Table);
        Assert.Empty(entries.Single(e => e.MountId == 27).OptionalFields);
        Assert.Equal(["shared:4", "master:2"], entries.Single(e => e.MountId == 26).OptionalFields);
        Assert.Equal("cgroup2", entries.Single(e => e.MountId == 26).FileSystemType);
        Assert.Equal(["rw", "cpu", "cpuacct"], entries.Single(e => e.MountId == 25).SuperOptionList);
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct", entries.Single(e => e.MountId == 25).MountPoint);
    }

    [Fact]
    public void Parse_UnescapesOctal_InRootAndMountPoint()
    {
        var entry = MountInfo.ParseTable(Table).Single(e => e.MountId == 28);
        Assert.Equal("/srv/data dir", entry.Root);
        Assert.Equal("/run/hcs/c1/rootfs/mnt/my data", entry.MountPoint);
    }

    [Theory]
    [InlineData(@"/a\040b", "/a b")]
    [InlineData(@"/tab\011x", "/tab\tx")]
    [InlineData(@"/nl\012x", "/nl\nx")]
    [InlineData(@"/back\134slash", @"/back\slash")]
    [InlineData(@"/not\08escape", @"/not\08escape")]
    [InlineData(@"/end\04", @"/end\04")]
    [InlineData("/plain/ü", "/plain/ü")]
    public void Unescape_DecodesTheKernelsOctalEscapes(string field, string path) => Assert.Equal(path, MountInfo.Unescape(field));

    [Theory]
    [InlineData("")]
    [InlineData("not a mount line")]
    [InlineData("22 1 8:1 / / rw,relatime shared:1 ext4 /dev/sda1 rw")]
    [InlineData("x 1 8:1 / / rw - ext4 /dev/sda1 rw")]
    [InlineData("22 1 8:1 / / rw -")]
    public void Parse_RefusesWhatIsNotAMountinfoLine(string line) => Assert.Null(MountInfo.Parse(line));

    [Fact]
    public void ParseTable_SkipsWhatIsNotAMountinfoLine() => Assert.Equal(7, MountInfo.ParseTable(Table).Count);

    [Fact]
    public void PointsUnder_ListsEachPointAtOrBelowOnce_InMountOrder_NotAPrefixSibling()
    {
        var points = MountInfo.PointsUnder(MountInfo.ParseTable(Table), "/run/hcs/c1/");
        Assert.Equal(["/run/hcs/c1/rootfs", "/run/hcs/c1/rootfs/mnt/my data"], points);
    }

    [Fact]
    public void Read_ThisProcessesTable_HasTheRoot_AndAMissingFileIsNull()
    {
        Assert.Contains(MountInfo.Read()!, e => e.MountPoint == "/");
        Assert.Null(MountInfo.Read("/nonexistent/mountinfo"));
    }
}
