// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Hcs.Backends.Runc;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using Hcs.TestKit;

namespace Hcs.Bench;

/// <summary>
/// What the container benchmarks share: one runtime root <c>/run/hcs-bench-RANDOM</c> holding the hcs engine's runtime
/// directories (<c>hcs/</c>, runc state in <c>hcs/.runc</c>) and the raw side's bundles (<c>raw/</c>) and runc state
/// (<c>raw-runc/</c>); one cgroup parent <c>hcs-bench-RANDOM</c> for both sides. Disposing it terminates what hcs still
/// runs, deletes raw containers, unmounts every overlay, removes the cgroup parent and the root. Ctrl-C stops the
/// benchmark at the next run boundary and then cleans up.
/// </summary>
internal sealed class ContainerRig : IAsyncDisposable
{
    public const string RuncPath = "/usr/sbin/runc";

    private static readonly CancellationTokenSource s_stop = new();
    private static int s_hooked;
    private readonly string _cgroupParent;

    private ContainerRig(string root, string cgroupParent)
    {
        Root = root;
        _cgroupParent = cgroupParent;
        Settings = new RuncSettings { RuntimeRoot = Path.Combine(root, "hcs"), CgroupParent = cgroupParent };
        Backend = new RuncBackend(Settings);
        Engine = new ComputeEngine([Backend]);
        Client = HcsClient.Connect(Engine, "hcs-bench");
    }

    public string Root { get; }

    public RuncSettings Settings { get; }

    public RuncBackend Backend { get; }

    public ComputeEngine Engine { get; }

    public HcsClient Client { get; }

    /// <summary>runc's state directory for hcs's containers (the engine's <c>runc --root</c>).</summary>
    public string HcsRuncRoot => Backend.RuncRoot;

    /// <summary>runc's state directory for the raw side's containers.</summary>
    public string RawRuncRoot => Path.Combine(Root, "raw-runc");

    public string RawBundles => Path.Combine(Root, "raw");

    /// <summary>The busybox container document (the runc tests' fixture document).</summary>
    public static Hcs.Schema.ComputeSystem Document => new()
    {
        Owner = "hcs-bench",
        SchemaVersion = new Hcs.Schema.Version { Major = 2, Minor = 1 },
        Container = new Container { Storage = new Storage { Layers = [new Layer { Path = BusyboxLayer.Path }] } },
    };

    public static ContainerRig Create()
    {
        if (Interlocked.Exchange(ref s_hooked, 1) == 0)
        {
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                Console.Error.WriteLine("   Ctrl-C: stopping after this run, then cleaning up");
                s_stop.Cancel();
            };
        }

        _ = BusyboxLayer.Path; // built (or found) before anything is timed
        var random = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var root = "/run/hcs-bench-" + random;
        Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new ContainerRig(root, "hcs-bench-" + random);
    }

    public static void ThrowIfStopping() => s_stop.Token.ThrowIfCancellationRequested();

    /// <summary>The directory hcs removes when a container is gone.</summary>
    public string HcsDirectory(string id) => Path.Combine(Settings.RuntimeRoot, Backend.HostNameOf(id));

    /// <summary>The <c>cgroupsPath</c> of a raw container (same parent as hcs's).</summary>
    public string CgroupsPath(string name) => $"/{_cgroupParent}/{name}";

    /// <summary>
    /// Prepares a raw bundle the way hcs's Create does: runtime directory (0700), scratch upper/work, overlay of the
    /// busybox layer at <c>rootfs</c> (<c>mount -t overlay</c>, the same helper), <c>config.json</c> from
    /// <see cref="OciSpec.Build"/> — with <c>process.args</c> = <paramref name="args"/> when given, else hcs's own init.
    /// The init's bind mount (<c>/.hcs/init</c>) is kept either way. Not done: <c>mount --make-shared</c> of the rootfs
    /// (hcs does it so directories mapped at run time propagate into the container; it is one more <c>mount</c> process).
    /// </summary>
    public async Task<string> PrepareRawAsync(string name, string[]? args)
    {
        var dir = Path.Combine(RawBundles, name);
        Directory.CreateDirectory(RawBundles);
        Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var rootfs = Path.Combine(dir, "rootfs");
        await RootFs.MountAsync([BusyboxLayer.Path], Path.Combine(dir, "scratch", "upper"), Path.Combine(dir, "scratch", "work"), rootfs, CancellationToken.None);
        var config = OciSpec.Build(new ContainerBundle(name, Document.Container!, rootfs, Backend.ShimPath, CgroupsPath(name), null, Environment.ProcessorCount));
        if (args is not null)
        {
            var node = JsonNode.Parse(config)!;
            node["process"]!["args"] = new JsonArray([.. args.Select(a => (JsonNode?)JsonValue.Create(a))]);
            config = node.ToJsonString();
        }

        await File.WriteAllTextAsync(Path.Combine(dir, "config.json"), config);
        return dir;
    }

    /// <summary>Unmounts a raw bundle's rootfs and removes its directory (the raw side's cleanup).</summary>
    public static async Task RemoveRawAsync(string dir)
    {
        await RootFs.UnmountAsync(Path.Combine(dir, "rootfs"), CancellationToken.None);
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// Runs <c>runc --root ROOT ARGS</c> through <see cref="Process"/> (as hcs runs runc), stdio pipes the bench never
    /// reads (the container's <c>true</c> writes nothing); throws with runc's stderr on a non-zero exit.
    /// </summary>
    public static async Task RuncAsync(string root, params string[] args)
    {
        var start = new ProcessStartInfo(RuncPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--root");
        start.ArgumentList.Add(root);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var runc = Process.Start(start)!;
        runc.StandardInput.Close();
        await runc.WaitForExitAsync();
        if (runc.ExitCode != 0)
        {
            string error;
            try
            {
                error = await runc.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (TimeoutException)
            {
                error = "(stderr still held open)";
            }

            throw new InvalidOperationException($"runc {string.Join(' ', args)} exited {runc.ExitCode}: {error.Trim()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await Engine.DisposeAsync(); // terminates what is left and waits for its cleanup
        if (Directory.Exists(RawBundles))
        {
            foreach (var dir in Directory.EnumerateDirectories(RawBundles))
            {
                try
                {
                    await RuncAsync(RawRuncRoot, "delete", "--force", Path.GetFileName(dir));
                }
                catch (InvalidOperationException)
                {
                    // Not a container (any more).
                }
            }
        }

        // Anything still mounted under the root (a raw run that failed half-way): unmount before removing files.
        var mounts = (await MountsUnderRootAsync()).OrderByDescending(m => m.Length).ToList();
        foreach (var mount in mounts)
        {
            await RootFs.UnmountAsync(mount, CancellationToken.None);
        }

        CgroupParents.RemoveEmpty(CgroupsPath("x"));
        if ((await MountsUnderRootAsync()).Count > 0)
        {
            await Console.Error.WriteLineAsync($"   warning: mounts left under {Root}; not removing it");
            return;
        }

        Directory.Delete(Root, recursive: true);
    }

    private async Task<List<string>> MountsUnderRootAsync() =>
        [.. (await File.ReadAllLinesAsync("/proc/self/mountinfo")).Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(Root + "/", StringComparison.Ordinal))];
}
