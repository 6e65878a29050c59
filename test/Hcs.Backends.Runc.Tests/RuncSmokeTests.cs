// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text.Json.Nodes;
using Hcs.Linux.Cgroups;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// The generated config.json run by the real runc (<c>runc run</c>, foreground) on an overlay of the busybox layer: runc
/// accepts it, and the host name, mapped directory, init mount and resource limits are what the document asked for.
/// The init is replaced by a shell command (hcs-shim is not part of this test); static busybox stands in at /.hcs/init.
/// </summary>
public sealed class RuncSmokeTests : IAsyncLifetime
{
    private const string Runc = "/usr/sbin/runc";
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("hcs-runc-smoke-");
    private readonly string _id = "hcs-smoke-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Skips the test on a machine without runc (or not as root): there is nothing to clean up then.</summary>
    public RuncSmokeTests() => Requires.Runc();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await RunAsync(Runc, ["--root", Path.Combine(_temp.FullName, "state"), "delete", "--force", _id]);
        await RootFs.UnmountAsync(Path.Combine(_temp.FullName, "rootfs"), CancellationToken.None);
        CgroupHierarchy.Host.Cgroup("/hcs-smoke-test").TryRemove(); // left alone while another run of this test uses it

        _temp.Delete(recursive: true);
    }

    [Fact]
    public async Task Runc_RunsTheGeneratedConfig_WithTheDocumentsHostNameMountsAndLimits()
    {
        var root = _temp.FullName;
        var share = Directory.CreateDirectory(Path.Combine(root, "share")).FullName;
        File.WriteAllText(Path.Combine(share, "hello"), "from the host");
        var rootfs = Path.Combine(root, "rootfs");
        await RootFs.MountAsync([BusyboxLayer.Path], Path.Combine(root, "upper"), Path.Combine(root, "work"), rootfs, Ct);
        var container = new Container
        {
            GuestOs = new GuestOs { HostName = "smoke" },
            Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] },
            MappedDirectories = [new MappedDirectory { HostPath = share, ContainerPath = "/mnt/share", ReadOnly = true }],
            Memory = new ContainerMemory { SizeInMB = 64 },
            Processor = new ContainerProcessor { Count = 1 },
        };
        ContainerValidation.Validate(new ComputeSystem { Container = container });
        var config = JsonNode.Parse(OciSpec.Build(new ContainerBundle(_id, container, rootfs, "/bin/busybox", $"/hcs-smoke-test/{_id}", null, 2)))!;
        config["process"]!["args"] = new JsonArray("/bin/sh", "-c",
            "hostname; cat /mnt/share/hello; echo; test -x /.hcs/init && echo init-ok; " +
            // The container's own cgroup, as runc mounts it: v2 (its cgroup dir) or v1 (each hierarchy's).
            "if [ -e /sys/fs/cgroup/cgroup.controllers ]; then cat /sys/fs/cgroup/memory.max; cut -d' ' -f1 /sys/fs/cgroup/cpu.max; " +
            "else cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us; fi; " +
            "touch /mnt/share/x 2>/dev/null || echo ro-ok; exit 7");
        var bundle = Directory.CreateDirectory(Path.Combine(root, "bundle")).FullName;
        File.WriteAllText(Path.Combine(bundle, "config.json"), config.ToJsonString());

        var (code, stdout, stderr) = await RunAsync(Runc, ["--root", Path.Combine(root, "state"), "run", "--bundle", bundle, _id]);

        Assert.True(code == 7, $"runc exited {code}: {stderr}");
        Assert.Equal(["smoke", "from the host", "init-ok", "67108864", "100000", "ro-ok"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(Path.Combine(share, "x")));
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(CancellationToken.None);
        return (process.ExitCode, await stdout, await stderr);
    }
}
