// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>Real overlay and bind mounts (the tests run as root).</summary>
public sealed class RootFsTests : IAsyncLifetime
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-runc-rootfs-");
    private readonly List<string> _mounts = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Root => _temp.FullName;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var mount in Enumerable.Reverse(_mounts))
        {
            await RootFs.UnmountAsync(mount, CancellationToken.None);
        }

        _temp.Delete(recursive: true);
    }

    private static bool IsMounted(string target) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == target.Replace(" ", "\\040", StringComparison.Ordinal));

    [Fact]
    public async Task Overlay_TopLayerWins_WritesLandInUpper_LayersStayUntouched_AndItUnmounts()
    {
        Requires.Root();
        var baseLayer = BusyboxLayer.NewLayer(Root, new Dictionary<string, string> { ["etc/motd"] = "base", ["etc/only-base"] = "b" });
        var topLayer = BusyboxLayer.NewLayer(Root, new Dictionary<string, string> { ["etc/motd"] = "top" });
        string upper = Path.Combine(Root, "scratch", "upper"), work = Path.Combine(Root, "scratch", "work"), target = Path.Combine(Root, "merged");
        _mounts.Add(target);

        await RootFs.MountAsync([baseLayer, topLayer], upper, work, target, Ct);

        Assert.True(IsMounted(target));
        Assert.Equal("top", File.ReadAllText(Path.Combine(target, "etc", "motd")));
        Assert.Equal("b", File.ReadAllText(Path.Combine(target, "etc", "only-base")));
        File.WriteAllText(Path.Combine(target, "etc", "motd"), "written");
        File.WriteAllText(Path.Combine(target, "new"), "n");
        Assert.Equal("written", File.ReadAllText(Path.Combine(upper, "etc", "motd")));
        Assert.Equal("n", File.ReadAllText(Path.Combine(upper, "new")));
        Assert.Equal("top", File.ReadAllText(Path.Combine(topLayer, "etc", "motd")));
        Assert.Equal("base", File.ReadAllText(Path.Combine(baseLayer, "etc", "motd")));
        Assert.False(File.Exists(Path.Combine(topLayer, "new")));

        await RootFs.UnmountAsync(target, Ct);

        Assert.False(IsMounted(target));
        Assert.False(File.Exists(Path.Combine(target, "new")));
        await RootFs.UnmountAsync(target, Ct); // not mounted any more: no error
    }

    [Fact]
    public async Task Overlay_OfTheBusyboxLayer_HasItsShell()
    {
        Requires.Root();
        var target = Path.Combine(Root, "merged");
        _mounts.Add(target);

        await RootFs.MountAsync([BusyboxLayer.Path], Path.Combine(Root, "upper"), Path.Combine(Root, "work"), target, Ct);

        Assert.Equal("busybox", new FileInfo(Path.Combine(target, "bin", "sh")).LinkTarget);
    }

    [Fact]
    public async Task AMissingLayer_IsPathNotFoundNamingIt()
    {
        var present = BusyboxLayer.NewLayer(Root, new Dictionary<string, string> { ["a"] = "a" });

        var e = await Assert.ThrowsAsync<HcsException>(() =>
            RootFs.MountAsync([present, Path.Combine(Root, "absent")], Path.Combine(Root, "u"), Path.Combine(Root, "w"), Path.Combine(Root, "m"), Ct));

        Assert.Equal(HResults.ERROR_PATH_NOT_FOUND, e.HResult);
        HcsAssert.ReasonAt("$.Container.Storage.Layers[1].Path", e);
    }

    [Fact]
    public async Task AMountRefusal_IsEFailWithMountsMessage()
    {
        Requires.Root();
        var layer = BusyboxLayer.NewLayer(Root, new Dictionary<string, string> { ["a"] = "a" });

        // The work directory must be on the upper directory's file system and not inside it: overlay refuses this.
        var upper = Path.Combine(Root, "upper");
        var e = await Assert.ThrowsAsync<HcsException>(() =>
            RootFs.MountAsync([layer], upper, Path.Combine(upper, "work"), Path.Combine(Root, "m"), Ct));

        Assert.Equal(HResults.E_FAIL, e.HResult);
        Assert.Contains("mount", e.Result.ErrorEvents![0].Message!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bind_ReadOnlyRefusesWrites_ReadWriteWritesThrough()
    {
        Requires.Root();
        var source = Directory.CreateDirectory(Path.Combine(Root, "share")).FullName;
        var ro = Directory.CreateDirectory(Path.Combine(Root, "ro")).FullName;
        var rw = Directory.CreateDirectory(Path.Combine(Root, "rw")).FullName;
        _mounts.Add(ro);
        _mounts.Add(rw);

        await RootFs.BindAsync(source, ro, readOnly: true, Ct);
        await RootFs.BindAsync(source, rw, readOnly: false, Ct);

        File.WriteAllText(Path.Combine(rw, "f"), "through");
        Assert.Equal("through", File.ReadAllText(Path.Combine(source, "f")));
        Assert.Equal("through", File.ReadAllText(Path.Combine(ro, "f")));
        var error = Assert.ThrowsAny<IOException>(() => File.WriteAllText(Path.Combine(ro, "g"), "x"));
        Assert.Contains("Read-only", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Bind_OfAMissingSource_IsPathNotFound()
    {
        var e = await Assert.ThrowsAsync<HcsException>(() => RootFs.BindAsync(Path.Combine(Root, "absent"), Root, false, Ct));

        Assert.Equal(HResults.ERROR_PATH_NOT_FOUND, e.HResult);
    }
}
