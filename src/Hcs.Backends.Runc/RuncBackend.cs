// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Containers as OCI containers run by runc. Create prepares: a runtime directory, the overlay root file system
/// (<c>Storage.Layers</c> read-only, parent first, over a scratch upper directory) and the bundle's
/// <c>config.json</c>. Start runs a per-container monitor, <c>hcs-shim</c>, which runs <c>runc create</c> (so the
/// container's init, an idle <c>hcs-shim init</c>, is its child), reports <c>SiloJobCreated</c>, then
/// <c>runc start</c>. Processes are <c>runc exec</c>s made by the monitor, whose exit statuses it keeps.
/// See docs/shim-protocol.md and ARCHITECTURE.md (Containers).
/// </summary>
public sealed partial class RuncBackend : IComputeBackend
{
    /// <summary>Longest Unix socket path (sun_path is 108 bytes with the NUL).</summary>
    internal const int MaxSocketPath = 107;

    /// <summary>Room for the longest file name inside a runtime directory (<c>exec/999999-err.sock</c>).</summary>
    private const int SocketNameReserve = 24;

    private readonly RuncSettings _settings;

    /// <summary>Creates the backend.</summary>
    public RuncBackend(RuncSettings? settings = null)
    {
        _settings = settings ?? new RuncSettings();
        ShimPath = _settings.ShimPath ?? LinuxHost.LocateShim();
        RuncRoot = _settings.RuncRoot ?? Path.Combine(_settings.RuntimeRoot, ".runc");
        if (Encoding.UTF8.GetByteCount(_settings.RuntimeRoot.TrimEnd('/')) + 1 + LinuxHost.HashedNameLength + 1 + SocketNameReserve > MaxSocketPath)
        {
            throw new ArgumentException($"the runtime root '{_settings.RuntimeRoot}' is too long for the Unix sockets of its containers", nameof(settings));
        }
    }

    /// <inheritdoc />
    public string Name => "runc";

    internal RuncSettings Settings => _settings;

    internal string ShimPath { get; }

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
    /// <see cref="LinuxHost.RuntimeName"/>, which keeps the id when runc accepts it and the socket paths stay short
    /// enough, else (and for every id shaped like a hashed name) <c>h-HASH</c>. An id beginning with <c>-</c> keeps
    /// its name: every runc command line puts <c>--</c> before it.
    /// </summary>
    internal string HostNameOf(string id) => LinuxHost.RuntimeName(id, FitsRunc);

    private bool FitsRunc(string id) =>
        id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '+')
        && Encoding.UTF8.GetByteCount(Path.Combine(_settings.RuntimeRoot, id)) + 1 + SocketNameReserve <= MaxSocketPath;

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
        if (!File.Exists(ShimPath))
        {
            throw new HcsException(HResults.ERROR_FILE_NOT_FOUND, Label, context.Id,
                result: ResultError.From(HResults.ERROR_FILE_NOT_FOUND, $"the container monitor {ShimPath} is missing: run ./build.sh", "runc"));
        }

        // Never clear what is there: a directory of this name is another system's (or an orphan's, for the cleaner).
        Directory.CreateDirectory(RuncRoot, PrivateFiles.DirectoryMode); // runc's state (each container's config): made 0700
        LinuxHost.CreateRuntimeDirectory(layout.Directory, context.Id, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Label);
        Scratch? scratch = null;
        var mounted = false;
        try
        {
            Directory.CreateDirectory(layout.Rootfs);
            scratch = Scratch.Prepare(container.Storage?.Path, layout, context.Id);
            var layers = container.Storage!.Layers!.Select(l => l.Path!).ToList();
            await RootFs.MountAsync(layers, scratch.Upper, scratch.Work, layout.Rootfs, cancellationToken).ConfigureAwait(false);
            mounted = true;
            // Shared, so a directory mapped while the container runs (bound on the host under the rootfs) reaches the
            // container, whose root is a slave of this mount (rootfsPropagation rslave).
            await HostCommand.RunCheckedAsync("mount", ["--make-shared", layout.Rootfs], Label, context.Id, cancellationToken).ConfigureAwait(false);
            var netns = container.Networking?.Namespace is { } ns ? ContainerValidation.NetnsPath(ns, _settings.NetnsDirectory) : null;
            if (netns is not null && !File.Exists(netns))
            {
                throw new HcsException(HResults.ERROR_FILE_NOT_FOUND, Label, context.Id, result: ResultError.From(HResults.ERROR_FILE_NOT_FOUND,
                    $"$.Container.Networking.Namespace: the network namespace '{netns}' does not exist", "runc"));
            }

            var config = OciSpec.Build(new ContainerBundle(name, container, layout.Rootfs, ShimPath, layout.CgroupsPath, netns, Environment.ProcessorCount));
            await PrivateFiles.WriteAllTextAsync(Path.Combine(layout.Directory, "config.json"), config, cancellationToken).ConfigureAwait(false);
            var system = new RuncSystem(context, this, layout, scratch);
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
            scratch?.Remove();
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

    /// <summary>Runs <c>runc --root ROOT SUBCOMMAND -- NAME</c>.</summary>
    internal Task<HostCommand.Result> RuncAsync(string subcommand, string name, CancellationToken cancellationToken) =>
        RuncAsync(subcommand, name, [], [], cancellationToken);

    /// <summary>As <see cref="RuncAsync(string, string, string[], string[], CancellationToken)"/>, and fails with runc's message.</summary>
    internal Task<HostCommand.Result> RuncCheckedAsync(string operation, string systemId, string subcommand, string name, string[] options,
        CancellationToken cancellationToken) =>
        HostCommand.RunCheckedAsync(_settings.RuncPath, RuncArguments(subcommand, name, options, []), operation, systemId, cancellationToken);

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
/// empty, because it is removed with the system) or, without one, inside the runtime directory.
/// </summary>
internal sealed record Scratch(string Root)
{
    public string Upper => Path.Combine(Root, "upper");

    public string Work => Path.Combine(Root, "work");

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

        var scratch = new Scratch(path);
        Directory.CreateDirectory(scratch.Upper);
        Directory.CreateDirectory(scratch.Work);
        return scratch;
    }

    /// <summary>Deletes the scratch directory with its contents (it was new or empty at Create).</summary>
    public void Remove() => RuncBackend.TryDeleteDirectory(Root);
}
