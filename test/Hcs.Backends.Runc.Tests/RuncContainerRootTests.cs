// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text.Json;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Backends.Runc.Tests;

/// <summary>
/// Real containers whose workload plants symbolic links and FIFOs in its own root, and callers that are not root:
/// nothing hcs does on their behalf reaches a host path they could not reach themselves (docs/security.md).
/// </summary>
public sealed class RuncContainerRootTests : IAsyncLifetime
{
    private const uint Nobody = 65534;
    private readonly RuncBackendFixture _fixture = new();
    private readonly string _host = Directory.CreateTempSubdirectory("hcs-host-").FullName;
    private HcsClient _client = null!;
    private bool _fixtureDisposed;

    public ValueTask InitializeAsync()
    {
        _client = _fixture.Connect("container-root-tests");
        File.SetUnixFileMode(_host, (UnixFileMode)0x1ED); // 0755: the non-root caller may traverse it
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_fixtureDisposed)
        {
            await _fixture.DisposeAsync();
        }

        foreach (var point in Mounts(_host).Reverse())
        {
            Run("umount", "-l", point);
        }

        Directory.Delete(_host, recursive: true);
    }

    private Task<T> Within<T>(Task<T> task) => task.WaitAsync(_fixture.Timeout);

    private Task Within(Task task) => task.WaitAsync(_fixture.Timeout);

    private async Task<ComputeSystem> RunningAsync(HcsClient? client = null, Func<Container, Container>? configure = null)
    {
        var system = await Within(ComputeSystem.CreateAsync(client ?? _client, _fixture.NewId("root"), HcsJson.Serialize(RuncBackendFixture.Document(configure))));
        await Within(system.StartAsync());
        return system;
    }

    private async Task<(string Out, uint Code)> ShAsync(ComputeSystem system, string script)
    {
        await using var process = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["sh", "-c", script],
            CreateStdOutPipe = true,
        }));
        var stdout = new StreamReader(process.StandardOutput!).ReadToEndAsync();
        var status = await Within(process.WaitForExitAsync());
        return (await stdout, status.ExitCode);
    }

    private static ModifySettingRequest Mapping(string hostPath, string containerPath, bool readOnly = false) => new()
    {
        ResourcePath = "Container/MappedDirectories",
        RequestType = ModifyRequestType.Add,
        Settings = JsonSerializer.SerializeToElement(new { HostPath = hostPath, ContainerPath = containerPath, ReadOnly = readOnly }),
    };

    /// <summary>A host directory with one file, <c>hello</c>, the source of a mapping.</summary>
    private string Source(string name, string text = "mapped")
    {
        var path = Directory.CreateDirectory(Path.Combine(_host, name)).FullName;
        File.WriteAllText(Path.Combine(path, "hello"), text);
        return path;
    }

    /// <summary>Mount points at or under <paramref name="path"/> in this (the host's) mount namespace.</summary>
    private static IReadOnlyList<string> Mounts(string path) => MountTable.Under(path);

    public static TheoryData<string, string> PlantedLinks => new()
    {
        { "absolute", "ln -s VICTIM /m" },
        { "relative with ..", "mkdir -p /a/b && ln -s ../../../../../../../../..VICTIM /a/b/up && ln -s a/b/up /m" },
        { "chain", "ln -s /c2 /m && ln -s /c3 /c2 && ln -s VICTIM /c3" },
    };

    [Theory]
    [MemberData(nameof(PlantedLinks))]
    public async Task Modify_MappingOntoALinkThePlantedWorkloadPointsAtTheHost_NeverMountsOnTheHost(string kind, string plant)
    {
        _ = kind;
        var victim = Source("victim", "host secret");
        var source = Source("src");
        await using var system = await RunningAsync();
        Assert.Equal(0u, (await ShAsync(system, plant.Replace("VICTIM", victim, StringComparison.Ordinal))).Code);

        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.ModifyAsync(Mapping(source, "/m"))));

        Assert.Equal(HResults.E_INVALIDARG, e.HResult);
        Assert.Contains("$.Settings.ContainerPath", e.Message, StringComparison.Ordinal);
        Assert.Empty(Mounts(victim));
        Assert.Equal(["hello"], Directory.EnumerateFileSystemEntries(victim).Select(Path.GetFileName));
        Assert.Equal("host secret", File.ReadAllText(Path.Combine(victim, "hello")));
    }

    [Fact]
    public async Task Modify_MappingOntoALinkThatClimbsOut_LandsWhereTheLinkPointsInsideTheContainer()
    {
        var victim = Source("victim2", "host secret");
        var source = Source("src2", "mapped");
        await using var system = await RunningAsync();
        Assert.Equal(0u, (await ShAsync(system, $"mkdir -p {victim} && ln -s ../../../../../../../..{victim} /m")).Code);

        await Within(system.ModifyAsync(Mapping(source, "/m/sub", readOnly: true)));

        Assert.Equal("mapped", (await ShAsync(system, $"cat {victim}/sub/hello")).Out);
        Assert.Equal("mapped", (await ShAsync(system, "cat /m/sub/hello")).Out);
        Assert.Empty(Mounts(victim));
        Assert.False(Directory.Exists(Path.Combine(victim, "sub")));
    }

    [Fact]
    public async Task Release_AfterTheWorkloadSwappedTheMountsParentForALink_UnmountsNothingOnTheHost()
    {
        // A host mount the workload would like hcs to unmount: HOSTDIR/x.
        var hostParent = Directory.CreateDirectory(Path.Combine(_host, "parent", "x")).Parent!.FullName;
        var hostMount = Path.Combine(hostParent, "x");
        Run("mount", "-t", "tmpfs", "tmpfs", hostMount);
        var source = Source("src3");
        var system = await RunningAsync();
        await Within(system.ModifyAsync(Mapping(source, "/p/x")));
        Assert.Equal("mapped", (await ShAsync(system, "cat /p/x/hello")).Out);
        Assert.Equal(0u, (await ShAsync(system, $"mv /p /q && ln -s {hostParent} /p")).Code);

        await Within(system.TerminateAsync());
        await system.DisposeAsync();
        await _fixture.DisposeAsync(); // waits for every release
        _fixtureDisposed = true;

        Assert.Contains(hostMount, Mounts(hostMount));
        Assert.DoesNotContain(MountTable.Under(_fixture.RuntimeRoot), p => p.Contains("/rootfs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exec_AsANamedUser_WithAFifoAtEtcPasswd_FailsFastAndClearly()
    {
        await using var system = await RunningAsync();
        Assert.Equal(0u, (await ShAsync(system, "rm /etc/passwd && mkfifo /etc/passwd")).Code);
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<HcsException>(() => Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["true"],
            User = "nobody",
        })));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.Contains("$.User", e.Message, StringComparison.Ordinal);
        Assert.Contains("FIFO", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exec_AsANamedUser_ReadsTheContainersPasswd_ThroughAnEtcLinkResolvedInTheRoot()
    {
        await using var system = await RunningAsync();
        var hostEtc = Directory.CreateDirectory(Path.Combine(_host, "etc")).FullName;
        File.WriteAllText(Path.Combine(hostEtc, "passwd"), "nobody:x:4242:4242::/:/bin/sh\n");
        Assert.Equal(0u, (await ShAsync(system, $"mkdir -p {hostEtc} && cp /etc/passwd {hostEtc}/passwd && cp /etc/group {hostEtc}/group && rm -r /etc && ln -s {hostEtc} /etc")).Code);

        await using var process = await Within(system.CreateProcessAsync(new ProcessParameters
        {
            CommandArgs = ["id", "-u"],
            User = "nobody",
            CreateStdOutPipe = true,
        }));
        var id = await new StreamReader(process.StandardOutput!).ReadToEndAsync();

        Assert.Equal("65534", id.Trim());
    }

    [Fact]
    public async Task ANonRootCaller_CannotMapARootOnlyDirectory_AtCreateOrAtRunTime()
    {
        var secret = Source("secret");
        File.SetUnixFileMode(secret, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var nobody = HcsClient.Connect(new AsCaller(_fixture.Service, new ClientIdentity("t", Nobody, 0, Nobody, [])));

        var atCreate = await Assert.ThrowsAsync<HcsException>(() => RunningAsync(nobody, c => c with
        {
            MappedDirectories = [new MappedDirectory { HostPath = secret, ContainerPath = "/data", ReadOnly = true }],
        }));
        Assert.Equal(HResults.E_ACCESSDENIED, atCreate.HResult);
        Assert.Contains(secret, atCreate.Message, StringComparison.Ordinal);
        Assert.Contains("$.Container.MappedDirectories[0].HostPath", atCreate.Message, StringComparison.Ordinal);

        await using var system = await RunningAsync(nobody);
        var atRunTime = await Assert.ThrowsAsync<HcsException>(() => Within(system.ModifyAsync(Mapping(secret, "/data", readOnly: true))));
        Assert.Equal(HResults.E_ACCESSDENIED, atRunTime.HResult);
        Assert.Contains(secret, atRunTime.Message, StringComparison.Ordinal);
        Assert.Empty(Mounts(secret));
        Assert.DoesNotContain(MountTable.Under(_fixture.RuntimeRoot), p => p.EndsWith("/data", StringComparison.Ordinal) || p.Contains("/mapped/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANonRootCaller_MapsADirectoryItOwns_AtCreateAndAtRunTime()
    {
        var own = Source("own", "mine");
        var later = Source("later", "later");
        Run("chown", "-R", $"{Nobody}:{Nobody}", own, later);
        // Only the owner and the container (root without CAP_DAC_OVERRIDE, so through "other") may write it.
        File.SetUnixFileMode(own, (UnixFileMode)0x1FF);
        await using var nobody = HcsClient.Connect(new AsCaller(_fixture.Service, new ClientIdentity("t", Nobody, 0, Nobody, [])));

        await using var system = await RunningAsync(nobody, c => c with
        {
            MappedDirectories = [new MappedDirectory { HostPath = own, ContainerPath = "/data" }],
        });
        await Within(system.ModifyAsync(Mapping(later, "/later", readOnly: true)));

        Assert.Equal("mine", (await ShAsync(system, "cat /data/hello")).Out);
        Assert.Equal("later", (await ShAsync(system, "cat /later/hello")).Out);
        Assert.Equal(0u, (await ShAsync(system, "echo new > /data/new")).Code);
        Assert.Equal("new\n", File.ReadAllText(Path.Combine(own, "new")));
    }

    [Fact]
    public async Task ANonRootCaller_CannotUseARootOnlyLayerScratchOrAnotherNetns()
    {
        var layer = BusyboxLayer.NewLayer(_host, new Dictionary<string, string> { ["etc/x"] = "y" });
        File.SetUnixFileMode(layer, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var closed = Directory.CreateDirectory(Path.Combine(_host, "closed")).FullName;
        File.SetUnixFileMode(closed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var nobody = HcsClient.Connect(new AsCaller(_fixture.Service, new ClientIdentity("t", Nobody, 0, Nobody, [])));

        var byLayer = await Assert.ThrowsAsync<HcsException>(() => RunningAsync(nobody, c => c with
        {
            Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }, new Layer { Path = layer }] },
        }));
        var byScratch = await Assert.ThrowsAsync<HcsException>(() => RunningAsync(nobody, c => c with
        {
            Storage = c.Storage! with { Path = Path.Combine(closed, "scratch") },
        }));
        var byNetns = await Assert.ThrowsAsync<HcsException>(() => RunningAsync(nobody, c => c with
        {
            Networking = new Networking { Namespace = "/proc/1/ns/net" },
        }));

        Assert.Equal(HResults.E_ACCESSDENIED, byLayer.HResult);
        Assert.Contains("$.Container.Storage.Layers[1].Path", byLayer.Message, StringComparison.Ordinal);
        Assert.Contains(layer, byLayer.Message, StringComparison.Ordinal);
        Assert.Equal(HResults.E_ACCESSDENIED, byScratch.HResult);
        Assert.Contains("$.Container.Storage.Path", byScratch.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(closed));
        Assert.Equal(HResults.E_ACCESSDENIED, byNetns.HResult);
        Assert.Contains("$.Container.Networking.Namespace", byNetns.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(MountTable.Under(_fixture.RuntimeRoot), p => p.Contains("/rootfs", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANonRootCallersScratch_IsMadeAsTheCaller_AndItsRemovalNeverFollowsASwappedPath()
    {
        var own = Directory.CreateDirectory(Path.Combine(_host, "own-scratch", "a")).Parent!.FullName;
        Run("chown", "-R", $"{Nobody}:{Nobody}", own);
        var scratch = Path.Combine(own, "a", "scratch");
        // What a swapped path would lead to: a root-only directory of the same shape.
        var victim = Directory.CreateDirectory(Path.Combine(_host, "victim-parent", "scratch")).FullName;
        File.WriteAllText(Path.Combine(victim, "precious"), "keep");
        File.SetUnixFileMode(Path.Combine(_host, "victim-parent"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await using var nobody = HcsClient.Connect(new AsCaller(_fixture.Service, new ClientIdentity("t", Nobody, 0, Nobody, [])));

        var system = await RunningAsync(nobody, c => c with { Storage = c.Storage! with { Path = scratch } });
        Assert.Equal(Nobody, Owner(Path.Combine(scratch, "upper")));
        Assert.Equal(0u, (await ShAsync(system, "echo hi > /tmp/file")).Code);
        Directory.Move(Path.Combine(own, "a"), Path.Combine(own, "moved"));
        File.CreateSymbolicLink(Path.Combine(own, "a"), Path.Combine(_host, "victim-parent"));
        await Within(system.TerminateAsync());
        await system.DisposeAsync();
        await _fixture.DisposeAsync(); // waits for every release
        _fixtureDisposed = true;

        Assert.Equal("keep", File.ReadAllText(Path.Combine(victim, "precious")));
    }

    private static uint Owner(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%u", "--", path]) { RedirectStandardOutput = true })!;
        var text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return uint.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Run(string file, params string[] arguments)
    {
        using var process = Process.Start(file, arguments);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    /// <summary>The service as seen by a client of another identity (what hcsd does with SO_PEERCRED).</summary>
    private sealed class AsCaller(IComputeService inner, ClientIdentity identity) : IComputeService
    {
        public IComputeSession OpenSession(ClientIdentity client) => inner.OpenSession(identity);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
