// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Engine.Backends;
using Hcs.Linux.Cgroups;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Runc;

/// <summary>
/// Containers as OCI containers run by runc. Create prepares: a runtime directory, the overlay root file system
/// (<c>Storage.Layers</c> read-only, parent first, over a scratch upper directory) and the bundle's
/// <c>config.json</c>. Start runs a per-container monitor, <c>hcs-shim</c>, which runs <c>runc create</c> (so the
/// container's init, an idle <c>hcs-shim init</c>, is its child), reports <c>SiloJobCreated</c>, then
/// <c>runc start</c>. Processes are <c>runc exec</c>s made by the monitor, whose exit statuses it keeps.
/// See docs/shim-protocol.md and docs/containers.md.
/// </summary>
public sealed partial class RuncBackend : IComputeBackend
{
    /// <summary>
    /// Longest Unix socket path (sun_path is 108 bytes with the NUL). Sockets in a runtime directory no longer depend
    /// on it (they are bound and reached through a descriptor or a working directory: docs/containers.md, Socket
    /// paths); it survives only in <see cref="HostNameOf"/>'s rule, which must not change.
    /// </summary>
    internal const int MaxSocketPath = 107;

    /// <summary>Room for the longest file name inside a runtime directory (<c>exec/999999-err.sock</c>).</summary>
    private const int FileNameReserve = 24;

    /// <summary>
    /// The longest runtime root accepted, in bytes: with a hashed name (26), the longest file name in a runtime
    /// directory (24) and two separators it stays within <c>PATH_MAX</c> (4096 with the NUL). A container's root file
    /// system (<c>rootfs</c>) is under it too, so a root this long leaves its paths little room; roots of a few hundred
    /// bytes are what the tests run.
    /// </summary>
    public const int MaxRuntimeRootBytes = 4095 - 1 - LinuxHost.HashedNameLength - 1 - FileNameReserve;

    private readonly RuncSettings _settings;
    private readonly Lazy<CgroupHierarchy> _cgroups;

    /// <summary>Creates the backend.</summary>
    public RuncBackend(RuncSettings? settings = null)
    {
        _settings = settings ?? new RuncSettings();
        var cgroupRoot = _settings.CgroupRoot;
        _cgroups = new(() => CgroupHierarchy.Open(cgroupRoot));
        Shim = _settings.ShimPath is { } shim ? LinuxHost.ConfiguredShim(shim, "RuncSettings.ShimPath") : LinuxHost.LocateShim();
        RuncRoot = _settings.RuncRoot ?? Path.Combine(_settings.RuntimeRoot, ".runc");
        if (Encoding.UTF8.GetByteCount(_settings.RuntimeRoot.TrimEnd('/')) > MaxRuntimeRootBytes)
        {
            throw new ArgumentException(
                $"the runtime root '{_settings.RuntimeRoot}' is longer than {MaxRuntimeRootBytes} bytes: the paths of its containers' files would pass PATH_MAX",
                nameof(settings));
        }
    }

    /// <inheritdoc />
    public string Name => "runc";

    internal RuncSettings Settings => _settings;

    /// <summary>The host's cgroups (at <see cref="RuncSettings.CgroupRoot"/>), found once.</summary>
    internal CgroupHierarchy Cgroups => _cgroups.Value;

    /// <summary>Where hcs-shim is (or the places looked in for it).</summary>
    internal ShimLocation Shim { get; }

    /// <summary>The hcs-shim a container runs with: the one found, else where an install puts it (a Create fails first).</summary>
    internal string ShimPath => Shim.Path ?? LinuxHost.InstalledShimPath;

    internal string RuncRoot { get; }

    /// <inheritdoc />
    public bool CanHost(ComputeSystem document) => document?.Container is not null;

    /// <inheritdoc />
    public void Validate(ComputeSystem document)
    {
        ArgumentNullException.ThrowIfNull(document);
        ContainerValidation.Validate(document, _settings.NetnsDirectory);
    }

    /// <summary>
    /// The name of system <paramref name="id"/> on the host (runtime directory, runc container id, cgroup):
    /// <see cref="LinuxHost.RuntimeName"/>, which keeps the id when runc accepts it and <c>runtimeRoot/id/</c> with a
    /// 24-byte file name stays within 107 bytes, else (and for every id shaped like a hashed name) <c>h-HASH</c>. The
    /// 107 bytes were the limit of the socket paths in the directory once; the rule is kept as it was because
    /// adoption finds a container by recomputing this name (a changed rule would lose containers left running). An id
    /// beginning with <c>-</c> keeps its name: every runc command line puts <c>--</c> before it.
    /// </summary>
    internal string HostNameOf(string id) => LinuxHost.RuntimeName(id, FitsRunc);

    private bool FitsRunc(string id) =>
        id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+')
        && Encoding.UTF8.GetByteCount(Path.Combine(_settings.RuntimeRoot, id)) + 1 + FileNameReserve <= MaxSocketPath;

    /// <summary>Where system <paramref name="id"/>'s files are on the host.</summary>
    internal ContainerLayout LayoutOf(string id)
    {
        var name = HostNameOf(id);
        return new ContainerLayout(Path.Combine(_settings.RuntimeRoot, name), name, $"/{_settings.CgroupParent}/{name}");
    }

    /// <inheritdoc />
    public async Task<IBackendSystem> CreateAsync(BackendSystemContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        const string Label = "RuncBackend.Create";
        var container = context.Document.Container!;
        var layout = LayoutOf(context.Id);
        var name = layout.Name;
        _ = Shim.Require(Label, context.Id, "runc");

        // Never clear what is there: a directory of this name is another system's (or an orphan's, for the cleaner).
        Directory.CreateDirectory(RuncRoot, PrivateFiles.DirectoryMode); // runc's state (each container's config): made 0700
        LinuxHost.CreateRuntimeDirectory(layout.Directory, context.Id, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Label);
        Scratch? scratch = null;
        var mounted = false;
        try
        {
            Directory.CreateDirectory(layout.Rootfs);
            await CheckNetnsAsync(container, context.Id).ConfigureAwait(false);
            scratch = await Scratch.PrepareAsync(container.Storage?.Path, layout, context.Id).ConfigureAwait(false);
            var layers = container.Storage!.Layers!.Select(l => l.Path!).ToList();
            if (HostCaller.Current is null)
            {
                await RootFs.MountAsync(layers, scratch.Upper, scratch.Work, layout.Rootfs, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await MountAsCallerAsync(layers, scratch, layout.Rootfs, context.Id).ConfigureAwait(false);
            }

            mounted = true;
            // Shared, so a directory mapped while the container runs (bound on the host under the rootfs) reaches the
            // container, whose root is a slave of this mount (rootfsPropagation rslave).
            await RuncCli.RunCheckedAsync("mount", ["--make-shared", layout.Rootfs], Label, context.Id, cancellationToken).ConfigureAwait(false);
            var netns = container.Networking?.Namespace is { } ns ? ContainerValidation.NetnsPath(ns, _settings.NetnsDirectory) : null;
            if (netns is not null && !File.Exists(netns))
            {
                throw new HcsException(HResults.ERROR_FILE_NOT_FOUND, Label, context.Id, result: ResultError.From(HResults.ERROR_FILE_NOT_FOUND,
                    $"$.Container.Networking.Namespace: the network namespace '{netns}' does not exist", "runc"));
            }

            var staged = await StageSourcesAsync(layout, container, context.Id).ConfigureAwait(false);
            var config = OciSpec.Build(new ContainerBundle(name, container, layout.Rootfs, ShimPath, layout.CgroupsPath, netns, Environment.ProcessorCount)
            {
                StagedSources = staged,
            });
            await PrivateFiles.WriteAllTextAsync(Path.Combine(layout.Directory, "config.json"), config, cancellationToken).ConfigureAwait(false);
            var system = new RuncSystem(context, this, layout, scratch, staged);
            system.ReportFacts();
            return system;
        }
        catch
        {
            if (mounted)
            {
                await RootFs.UnmountAsync(layout.Rootfs, CancellationToken.None).ConfigureAwait(false);
            }

            // Only what this Create made: the runtime directory is its own (claimed exclusively above), and so is the
            // scratch it prepared. No runc container exists before Start.
            await MountTable.UnmountAllUnderAsync(layout.Directory, CancellationToken.None).ConfigureAwait(false);
            if (scratch is not null)
            {
                await scratch.RemoveAsync().ConfigureAwait(false);
            }

            TryDeleteDirectory(layout.Directory);
            throw;
        }
    }

    /// <summary>
    /// Runs <c>runc --root ROOT SUBCOMMAND [OPTIONS] -- NAME [ARGS]</c>: the container name always follows <c>--</c>, so
    /// a name beginning with <c>-</c> is never read as an option (runc 1.1 accepts <c>--</c> in every subcommand).
    /// <paramref name="options"/> are the subcommand's options (before <c>--</c>), <paramref name="arguments"/> the
    /// positional arguments after the name.
    /// </summary>
    internal Task<HostCommand.Result> RuncAsync(string subcommand, string name, string[] options, string[] arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync(_settings.RuncPath, RuncArguments(subcommand, name, options, arguments), cancellationToken);

    /// <summary>
    /// For a caller that is not root: the overlay from descriptors the caller opened — each layer readable by it
    /// (<c>ReadDirectory</c>), <c>upper</c> and <c>work</c> of its <c>Storage.Path</c> (<see cref="Scratch.OpenAsync"/>)
    /// — so no path it named is resolved again as root (<see cref="RootFs.MountOverlay"/>).
    /// </summary>
    private static async Task MountAsCallerAsync(List<string> layers, Scratch scratch, string target, string id)
    {
        var handles = new List<SafeFileHandle>();
        try
        {
            for (var i = 0; i < layers.Count; i++)
            {
                var what = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"$.Container.Storage.Layers[{i}].Path");
                RuncPaths.Overlay(layers[i], what);
                handles.Add(await HostFiles.OpenAsync(layers[i], HostOpen.ReadDirectory, what).ConfigureAwait(false));
            }

            SafeFileHandle upper, work;
            if (scratch.Owner is null)
            {
                // The scratch inside the root-only runtime directory.
                upper = LinuxCalls.Handle(LinuxCalls.Openat(null, scratch.Upper, LinuxCalls.O_RDONLY | LinuxCalls.O_DIRECTORY | LinuxCalls.O_NOFOLLOW | LinuxCalls.O_CLOEXEC))!;
                work = LinuxCalls.Handle(LinuxCalls.Openat(null, scratch.Work, LinuxCalls.O_RDONLY | LinuxCalls.O_DIRECTORY | LinuxCalls.O_NOFOLLOW | LinuxCalls.O_CLOEXEC))!;
            }
            else
            {
                (upper, work) = await scratch.OpenAsync().ConfigureAwait(false);
            }

            handles.Add(upper);
            handles.Add(work);
            RootFs.MountOverlay(handles[..layers.Count], upper, work, target);
        }
        catch (HcsException e) when (e.SystemId is null)
        {
            throw new HcsException(e.HResult, "RuncBackend.Create", id, result: e.Result);
        }
        finally
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }
        }
    }

    /// <summary>
    /// A caller that is not root may name only a network namespace under <see cref="RuncSettings.NetnsDirectory"/>
    /// (runc joins it as root; the administrator's directory lists what non-root callers are offered), and one it can
    /// open for reading; never <c>/proc/PID/ns/net</c> or any other path. <c>E_ACCESSDENIED</c> names the member.
    /// </summary>
    private async Task CheckNetnsAsync(Container container, string id)
    {
        if (HostCaller.Current is not { } caller || container.Networking?.Namespace is not { } ns)
        {
            return;
        }

        const string What = "$.Container.Networking.Namespace";
        var path = ContainerValidation.NetnsPath(ns, _settings.NetnsDirectory);
        if (Path.GetDirectoryName(path) != _settings.NetnsDirectory.TrimEnd('/'))
        {
            throw new HcsException(HResults.E_ACCESSDENIED, "RuncBackend.Create", id, result: ResultError.From(HResults.E_ACCESSDENIED,
                $"{What}: {caller} may name only a network namespace under {_settings.NetnsDirectory}, not '{(ns.Length > 256 ? ns[..256] + "…" : ns)}'", "runc"));
        }

        try
        {
            using var handle = await HostFiles.OpenAsync(path, HostOpen.ReadFile, What).ConfigureAwait(false);
        }
        catch (HcsException e) when (e.SystemId is null)
        {
            throw new HcsException(e.HResult, "RuncBackend.Create", id, result: e.Result);
        }
    }

    /// <summary>
    /// For a caller that is not root (<see cref="HostCaller.Current"/>), opens the host directory of each mapped
    /// directory with the caller's credentials (read-only → readable, read-write → writable by the caller) and binds it by
    /// descriptor onto a staging point in the root-only runtime directory (<see cref="StageSource"/>); runc is given
    /// that point, so it never resolves a path the client named. Root callers: nothing is staged (runc binds
    /// <c>HostPath</c>, as always). Index → staging point.
    /// </summary>
    private static async Task<IReadOnlyDictionary<int, string>> StageSourcesAsync(ContainerLayout layout, Container container, string id)
    {
        var staged = new Dictionary<int, string>();
        if (HostCaller.Current is null)
        {
            return staged;
        }

        var mappings = container.MappedDirectories ?? [];
        for (var i = 0; i < mappings.Count; i++)
        {
            var what = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"$.Container.MappedDirectories[{i}].HostPath");
            var readOnly = mappings[i].ReadOnly == true;
            SafeFileHandle source;
            try
            {
                source = await HostFiles.OpenAsync(mappings[i].HostPath!, readOnly ? HostOpen.ReadDirectory : HostOpen.ReadWriteDirectory, what).ConfigureAwait(false);
            }
            catch (HcsException e) when (e.SystemId is null)
            {
                throw new HcsException(e.HResult, "RuncBackend.Create", id, result: e.Result);
            }

            using (source)
            {
                staged[i] = StageSource(layout, i, source, readOnly, what);
            }
        }

        return staged;
    }

    /// <summary>
    /// Binds the opened <paramref name="source"/> (recursively, read-only when asked) onto
    /// <c>RUNDIR/mapped/INDEX</c>, a directory of the root-only runtime directory, and returns that path.
    /// </summary>
    internal static string StageSource(ContainerLayout layout, int index, SafeFileHandle source, bool readOnly, string what)
    {
        var stage = Path.Combine(layout.Directory, "mapped", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(stage, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var target = LinuxCalls.Handle(LinuxCalls.Openat(null, stage, LinuxCalls.O_PATH | LinuxCalls.O_DIRECTORY | LinuxCalls.O_NOFOLLOW | LinuxCalls.O_CLOEXEC))
            ?? throw new HcsException(HResults.E_FAIL, result: ResultError.From(HResults.E_FAIL, $"{what}: cannot open the staging point '{stage}': {LinuxCalls.Describe(LinuxCalls.Errno)}", "runc"));
        RootFs.Bind(source, target, readOnly, recursive: true, what);
        return stage;
    }

    /// <summary>Staging points of mapped directories (<see cref="StageSource"/>) mounted under a runtime directory, by index.</summary>
    internal static Dictionary<int, string> StagedIn(ContainerLayout layout)
    {
        var prefix = Path.Combine(layout.Directory, "mapped") + "/";
        var staged = new Dictionary<int, string>();
        foreach (var point in MountTable.Under(layout.Directory))
        {
            if (point.StartsWith(prefix, StringComparison.Ordinal)
                && int.TryParse(point[prefix.Length..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
            {
                staged[index] = point;
            }
        }

        return staged;
    }

    /// <summary>Runs <c>runc --root ROOT SUBCOMMAND -- NAME</c>.</summary>
    internal Task<HostCommand.Result> RuncAsync(string subcommand, string name, CancellationToken cancellationToken) =>
        RuncAsync(subcommand, name, [], [], cancellationToken);

    /// <summary>As <see cref="RuncAsync(string, string, string[], string[], CancellationToken)"/>, and fails with runc's message.</summary>
    internal Task<HostCommand.Result> RuncCheckedAsync(string operation, string systemId, string subcommand, string name, string[] options,
        CancellationToken cancellationToken) =>
        RuncCli.RunCheckedAsync(_settings.RuncPath, RuncArguments(subcommand, name, options, []), operation, systemId, cancellationToken);

    private string[] RuncArguments(string subcommand, string name, string[] options, string[] arguments) =>
        ["--root", RuncRoot, subcommand, .. options, "--", name, .. arguments];

    internal static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort; the daemon reports and cleans orphans.
        }
    }
}

/// <summary>Where one container's files are on the host.</summary>
/// <param name="Directory">Runtime directory: bundle (<c>config.json</c>), <c>rootfs</c> mount point, shim socket, exit records.</param>
/// <param name="Name">The runc container id (also the last cgroup path element).</param>
/// <param name="CgroupsPath">The OCI <c>cgroupsPath</c>, relative to each hierarchy's root.</param>
internal sealed record ContainerLayout(string Directory, string Name, string CgroupsPath)
{
    /// <summary>The overlay mount point, the container's root.</summary>
    public string Rootfs => Path.Combine(Directory, "rootfs");
}

/// <summary>
/// The writable layer: <c>upper</c> and <c>work</c> of the overlay, inside <c>Storage.Path</c> (which must be absent or
/// empty, because it is removed with the system) or, without one, inside the runtime directory. <see cref="Owner"/> is
/// the caller that is not root who named <c>Storage.Path</c>: it is checked, made and removed with that caller's
/// credentials (<see cref="HostFiles"/>).
/// </summary>
internal sealed record Scratch(string Root)
{
    public string Upper => Path.Combine(Root, "upper");

    public string Work => Path.Combine(Root, "work");

    /// <summary>Whose credentials make and remove <c>Storage.Path</c>; null: the service's.</summary>
    public HostCaller? Owner { get; init; }

    public static Scratch Prepare(string? path, ContainerLayout layout, string id)
    {
        if (path is null)
        {
            var inside = new Scratch(Path.Combine(layout.Directory, "scratch"));
            Directory.CreateDirectory(inside.Upper);
            Directory.CreateDirectory(inside.Work);
            return inside;
        }

        if (Directory.Exists(path) && Directory.EnumerateFileSystemEntries(path).Any())
        {
            throw new HcsException(HResults.ERROR_ALREADY_EXISTS, "RuncBackend.Create", id,
                result: ResultError.From(HResults.ERROR_ALREADY_EXISTS,
                    $"$.Container.Storage.Path: '{path}' is not empty; the scratch directory must be new or empty because it is removed with the container",
                    "runc"));
        }

        var scratch = new Scratch(path) { Owner = HostCaller.Current };
        Directory.CreateDirectory(scratch.Upper);
        Directory.CreateDirectory(scratch.Work);
        return scratch;
    }

    /// <summary>
    /// <see cref="Prepare"/> with the credentials of <see cref="HostCaller.Current"/> when <paramref name="path"/> is
    /// given (a refusal is <c>E_ACCESSDENIED</c> naming <c>$.Container.Storage.Path</c>).
    /// </summary>
    public static async Task<Scratch> PrepareAsync(string? path, ContainerLayout layout, string id)
    {
        if (path is null || HostCaller.Current is null)
        {
            return Prepare(path, layout, id);
        }

        try
        {
            return await HostFiles.AsCallerAsync(() => Prepare(path, layout, id)).ConfigureAwait(false);
        }
        catch (UnauthorizedAccessException)
        {
            throw new HcsException(HResults.E_ACCESSDENIED, "RuncBackend.Create", id, result: ResultError.From(HResults.E_ACCESSDENIED,
                $"$.Container.Storage.Path: {HostCaller.Current} may not create the scratch directory '{path}'", "runc"));
        }
    }

    /// <summary>
    /// Opens <c>upper</c> and <c>work</c> for the overlay: as <see cref="Owner"/> and without following a link in
    /// <c>Storage.Path</c>, so a path swapped since <see cref="PrepareAsync"/> cannot make the overlay write elsewhere.
    /// </summary>
    public async Task<(SafeFileHandle Upper, SafeFileHandle Work)> OpenAsync()
    {
        using var scope = HostCaller.Enter(Owner);
        return await HostFiles.AsCallerAsync(() =>
        {
            using var root = HostFiles.Open(Root, HostOpen.ReadWriteDirectory, "$.Container.Storage.Path");
            var upper = Sub(root, "upper");
            try
            {
                return (upper, Sub(root, "work"));
            }
            catch
            {
                upper.Dispose();
                throw;
            }
        }).ConfigureAwait(false);

        SafeFileHandle Sub(SafeFileHandle root, string name) =>
            LinuxCalls.Handle(LinuxCalls.Openat(root, name, LinuxCalls.O_RDONLY | LinuxCalls.O_DIRECTORY | LinuxCalls.O_NOFOLLOW | LinuxCalls.O_CLOEXEC))
            ?? throw HostFiles.Failure(LinuxCalls.Errno, Path.Combine(Root, name), "open the scratch directory", "$.Container.Storage.Path");
    }

    /// <summary>
    /// Deletes the scratch directory with its contents (it was new or empty at Create), with the credentials of
    /// <see cref="Owner"/>: a path swapped for a link reaches only what that caller could delete itself.
    /// </summary>
    public async Task RemoveAsync()
    {
        if (Owner is null)
        {
            RuncBackend.TryDeleteDirectory(Root);
            return;
        }

        using var scope = HostCaller.Enter(Owner);
        try
        {
            await HostFiles.AsCallerAsync(() =>
            {
                RuncBackend.TryDeleteDirectory(Root);
                return true;
            }).ConfigureAwait(false);
        }
        catch (HcsException)
        {
            // Best effort, as TryDeleteDirectory.
        }
    }
}
