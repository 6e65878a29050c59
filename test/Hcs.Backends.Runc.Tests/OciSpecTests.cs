// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

public sealed class OciSpecTests
{
    private static ContainerBundle Bundle(Container container, string id = "c1", string? netns = null) =>
        new(id, container, "/run/hcs/runc/c1/rootfs", "/opt/hcs/hcs-shim", "/hcs/c1", netns, 4);

    private static Container Minimal => new() { Storage = new Storage { Layers = [new Layer { Path = "/l0" }] } };

    private static JsonObject Parse(string json) => JsonNode.Parse(json)!.AsObject();

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => n!.GetValue<string>())];

    [Fact]
    public void Config_RunsTheInitAsRootWithoutATerminal()
    {
        var config = Parse(OciSpec.Build(Bundle(Minimal)));

        Assert.Equal("1.0.2-dev", config["ociVersion"]!.GetValue<string>());
        var process = config["process"]!;
        Assert.False(process["terminal"]!.GetValue<bool>());
        Assert.Equal(0, process["user"]!["uid"]!.GetValue<int>());
        Assert.Equal(0, process["user"]!["gid"]!.GetValue<int>());
        Assert.Equal(["/.hcs/init", "init"], Strings(process["args"]));
        Assert.Equal(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Strings(process["env"]));
        Assert.Equal("/", process["cwd"]!.GetValue<string>());
        Assert.Equal(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], Strings(process["capabilities"]!["bounding"]));
        Assert.Equal(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], Strings(process["capabilities"]!["ambient"]));
        Assert.Equal("RLIMIT_NOFILE", process["rlimits"]![0]!["type"]!.GetValue<string>());
        Assert.Equal(1024, process["rlimits"]![0]!["hard"]!.GetValue<int>());
        Assert.True(process["noNewPrivileges"]!.GetValue<bool>());
        Assert.Equal("/run/hcs/runc/c1/rootfs", config["root"]!["path"]!.GetValue<string>());
        Assert.False(config["root"]!["readonly"]!.GetValue<bool>());
    }

    [Fact]
    public void Config_HasRuncsDefaultMountsThenTheInitThenMappedDirectories()
    {
        var container = Minimal with
        {
            MappedDirectories =
            [
                new MappedDirectory { HostPath = "/srv/data", ContainerPath = "/data", ReadOnly = true },
                new MappedDirectory { HostPath = "/srv/logs", ContainerPath = "/logs" },
            ],
        };

        var mounts = Parse(OciSpec.Build(Bundle(container)))["mounts"]!.AsArray();

        Assert.Equal(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/.hcs/init", "/data", "/logs"],
            mounts.Select(m => m!["destination"]!.GetValue<string>()).ToArray());
        Assert.Equal(["nosuid", "noexec", "nodev", "ro"], Strings(mounts[5]!["options"]));
        var init = mounts[7]!;
        Assert.Equal("bind", init["type"]!.GetValue<string>());
        Assert.Equal("/opt/hcs/hcs-shim", init["source"]!.GetValue<string>());
        Assert.Equal(["rbind", "ro"], Strings(init["options"]));
        Assert.Equal("/srv/data", mounts[8]!["source"]!.GetValue<string>());
        Assert.Equal(["rbind", "rprivate", "ro"], Strings(mounts[8]!["options"]));
        Assert.Equal(["rbind", "rprivate", "rw"], Strings(mounts[9]!["options"]));
    }

    [Fact]
    public void Config_HasTheNamespacesCgroupAndDeviceRulesOfRuncSpec()
    {
        var linux = Parse(OciSpec.Build(Bundle(Minimal)))["linux"]!;

        Assert.Equal(["pid", "network", "ipc", "uts", "mount"], linux["namespaces"]!.AsArray().Select(n => n!["type"]!.GetValue<string>()).ToArray());
        Assert.Null(linux["namespaces"]![1]!["path"]);
        Assert.Equal("/hcs/c1", linux["cgroupsPath"]!.GetValue<string>());
        var devices = Assert.Single(linux["resources"]!["devices"]!.AsArray())!;
        Assert.False(devices["allow"]!.GetValue<bool>());
        Assert.Equal("rwm", devices["access"]!.GetValue<string>());
        Assert.Null(linux["resources"]!["memory"]);
        Assert.Null(linux["resources"]!["cpu"]);
        Assert.Contains("/proc/kcore", Strings(linux["maskedPaths"]));
        Assert.Contains("/proc/sysrq-trigger", Strings(linux["readonlyPaths"]));
        Assert.Equal("rslave", linux["rootfsPropagation"]!.GetValue<string>());
    }

    [Fact]
    public void Config_JoinsTheGivenNetworkNamespace()
    {
        var linux = Parse(OciSpec.Build(Bundle(Minimal, netns: "/var/run/netns/blue")))["linux"]!;

        var network = linux["namespaces"]!.AsArray().Single(n => n!["type"]!.GetValue<string>() == "network")!;
        Assert.Equal("/var/run/netns/blue", network["path"]!.GetValue<string>());
    }

    [Fact]
    public void Config_CarriesMemoryAndCpuResources()
    {
        var container = Minimal with { Memory = new ContainerMemory { SizeInMB = 64 }, Processor = new ContainerProcessor { Count = 1 } };

        var resources = Parse(OciSpec.Build(Bundle(container)))["linux"]!["resources"]!;

        Assert.Equal(67_108_864L, resources["memory"]!["limit"]!.GetValue<long>());
        Assert.Equal(100_000L, resources["cpu"]!["quota"]!.GetValue<long>());
        Assert.NotNull(resources["devices"]);
    }

    [Theory]
    [InlineData("web-1", "web-1")]
    [InlineData("3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3F2504E0-4F89-11D3-9A0C-0305E82C3301")]
    [InlineData("my_container.v2", "my-container-v2")]
    [InlineData("__x__", "x")]
    [InlineData("___", "container")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public void HostName_IsTheSanitisedIdWhenTheDocumentHasNone(string id, string expected)
    {
        var config = Parse(OciSpec.Build(Bundle(Minimal, id)));

        Assert.Equal(expected, config["hostname"]!.GetValue<string>());
        Assert.True(ContainerValidation.IsHostName(expected));
    }

    [Fact]
    public void HostName_ComesFromGuestOs()
    {
        var config = Parse(OciSpec.Build(Bundle(Minimal with { GuestOs = new GuestOs { HostName = "db.example" } })));

        Assert.Equal("db.example", config["hostname"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(1u, 2, 100_000L)]
    [InlineData(2u, 2, 200_000L)]
    [InlineData(3u, 4, 300_000L)]
    [InlineData(8u, 2, 200_000L)] // more than the host has: capped at the host
    public void Count_IsAQuotaOfCountPeriods(uint count, int hostCpus, long quota)
    {
        var cpu = OciSpec.Resources(null, new ContainerProcessor { Count = count }, hostCpus)["cpu"]!;

        Assert.Equal(quota, cpu["quota"]!.GetValue<long>());
        Assert.Equal(100_000UL, cpu["period"]!.GetValue<ulong>());
        Assert.Equal(1024UL, cpu["shares"]!.GetValue<ulong>());
    }

    [Theory]
    [InlineData(10_000ul, 2, 200_000L)] // 100 % of the host
    [InlineData(5_000ul, 2, 100_000L)]
    [InlineData(2_500ul, 4, 100_000L)]
    [InlineData(1_234ul, 2, 24_680L)]
    [InlineData(50ul, 1, 1_000L)] // 500 µs is below the kernel's minimum: raised to 1 ms
    [InlineData(1ul, 2, 1_000L)]
    public void Maximum_IsAShareOfTheWholeHost(ulong maximum, int hostCpus, long quota) =>
        Assert.Equal(quota, OciSpec.Resources(null, new ContainerProcessor { Maximum = maximum }, hostCpus)["cpu"]!["quota"]!.GetValue<long>());

    [Theory]
    [InlineData(100ul, 1024ul)]
    [InlineData(50ul, 512ul)]
    [InlineData(200ul, 2048ul)]
    [InlineData(10_000ul, 102_400ul)]
    [InlineData(1ul, 10ul)]
    [InlineData(0ul, 2ul)] // clamped to cpu.shares' minimum
    public void Weight_IsSharesWith100As1024(ulong weight, ulong shares)
    {
        var cpu = OciSpec.Resources(null, new ContainerProcessor { Weight = weight }, 2)["cpu"]!;

        Assert.Equal(shares, cpu["shares"]!.GetValue<ulong>());
        Assert.Equal(-1L, cpu["quota"]!.GetValue<long>());
    }

    [Fact]
    public void Resources_WithNothingSet_IsEmpty() => Assert.Empty(OciSpec.Resources(new ContainerMemory(), null, 2));

    [Fact]
    public void MemorySize_IsALimitInBytes() =>
        Assert.Equal(1_073_741_824L, OciSpec.Resources(new ContainerMemory { SizeInMB = 1024 }, null, 2)["memory"]!["limit"]!.GetValue<long>());
}
