// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Backends.Runc;

/// <summary>
/// The container's root file system: an overlay of the document's layers (read-only, parent first) under the scratch
/// (upper) directory, and bind mounts of mapped directories added at run time. Runs <c>mount</c>/<c>umount</c> with an
/// argument list (never a shell). Failures are <see cref="HcsException"/>s carrying the tool's stderr.
/// </summary>
internal static class RootFs
{
    /// <summary>
    /// Mounts <c>overlay</c> at <paramref name="target"/> with <c>lowerdir</c> = the layers top first (the reverse of
    /// <paramref name="layersParentFirst"/>: the last layer is the top), <paramref name="upperDir"/> and
    /// <paramref name="workDir"/> (both created when missing, and on the same file system). A missing layer is
    /// <c>ERROR_PATH_NOT_FOUND</c> naming <c>$.Container.Storage.Layers[i].Path</c>; a refusal by mount is <c>E_FAIL</c>
    /// with its stderr.
    /// </summary>
    public static async Task MountAsync(IReadOnlyList<string> layersParentFirst, string upperDir, string workDir, string target, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(layersParentFirst);
        if (layersParentFirst.Count == 0)
        {
            throw HcsException.InvalidJson("$.Container.Storage.Layers", "at least one layer is required");
        }

        for (var i = 0; i < layersParentFirst.Count; i++)
        {
            var jsonPath = string.Create(CultureInfo.InvariantCulture, $"$.Container.Storage.Layers[{i}].Path");
            var layer = RuncPaths.Overlay(layersParentFirst[i], jsonPath);
            if (!Directory.Exists(layer))
            {
                throw Failure(HResults.ERROR_PATH_NOT_FOUND, $"{jsonPath}: layer directory '{layer}' does not exist");
            }
        }

        RuncPaths.Overlay(upperDir, "$.Container.Storage.Path");
        RuncPaths.Overlay(workDir, "$.Container.Storage.Path");
        Absolute(target);
        Directory.CreateDirectory(upperDir);
        Directory.CreateDirectory(workDir);
        Directory.CreateDirectory(target);

        var options = $"lowerdir={string.Join(':', layersParentFirst.Reverse())},upperdir={upperDir},workdir={workDir}";
        var (code, stderr) = await RunAsync(MountTool, ["-t", "overlay", "overlay", "-o", options, target], ct).ConfigureAwait(false);
        if (code != 0)
        {
            throw Failure(HResults.E_FAIL, $"mounting the overlay root file system at '{target}' failed: {stderr}");
        }
    }

    /// <summary>
    /// Unmounts <paramref name="target"/>: <c>umount</c>, then <c>umount -l</c> (lazy) when it is busy. Nothing mounted
    /// there (or no such directory) is not an error.
    /// </summary>
    public static async Task UnmountAsync(string target, CancellationToken ct)
    {
        Absolute(target);
        var (code, stderr) = await RunAsync(UmountTool, [target], ct).ConfigureAwait(false);
        if (code == 0 || NotMounted(stderr))
        {
            return;
        }

        if (stderr.Contains("busy", StringComparison.OrdinalIgnoreCase))
        {
            (code, stderr) = await RunAsync(UmountTool, ["-l", target], ct).ConfigureAwait(false);
            if (code == 0 || NotMounted(stderr))
            {
                return;
            }
        }

        throw Failure(HResults.E_FAIL, $"unmounting '{target}' failed: {stderr}");
    }

    /// <summary>
    /// Bind-mounts <paramref name="source"/> on <paramref name="target"/> (<c>mount --bind</c>), then makes it read-only
    /// (<c>mount -o remount,bind,ro</c>) when asked; if that fails the bind is undone. A missing source is
    /// <c>ERROR_PATH_NOT_FOUND</c>, another refusal <c>E_FAIL</c> with mount's stderr.
    /// </summary>
    public static async Task BindAsync(string source, string target, bool readOnly, CancellationToken ct)
    {
        Absolute(source);
        Absolute(target);
        if (!Path.Exists(source))
        {
            throw Failure(HResults.ERROR_PATH_NOT_FOUND, $"'{source}' does not exist");
        }

        var (code, stderr) = await RunAsync(MountTool, ["--bind", source, target], ct).ConfigureAwait(false);
        if (code != 0)
        {
            throw Failure(HResults.E_FAIL, $"binding '{source}' on '{target}' failed: {stderr}");
        }

        if (readOnly)
        {
            (code, stderr) = await RunAsync(MountTool, ["-o", "remount,bind,ro", target], ct).ConfigureAwait(false);
            if (code != 0)
            {
                await RunAsync(UmountTool, [target], CancellationToken.None).ConfigureAwait(false);
                throw Failure(HResults.E_FAIL, $"making the bind of '{source}' on '{target}' read-only failed: {stderr}");
            }
        }
    }

    /// <summary>
    /// Binds the directory open as <paramref name="source"/> onto the directory open as <paramref name="target"/>, by
    /// descriptor (the new mount API, Linux 5.12 for read-only): <c>open_tree(OPEN_TREE_CLONE)</c> makes a detached copy
    /// of the source's mount (with the mounts under it when <paramref name="recursive"/>), <c>mount_setattr</c> makes it
    /// read-only before anyone can see it, <c>move_mount</c> attaches it at the target (where it propagates as any new
    /// mount does). No path is resolved again. A refusal is <c>E_FAIL</c> (<c>ERROR_NOT_SUPPORTED</c> on a kernel
    /// without the calls) naming <paramref name="what"/>.
    /// </summary>
    public static void Bind(SafeFileHandle source, SafeFileHandle target, bool readOnly, bool recursive, string what)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        using var tree = LinuxCalls.Handle(LinuxCalls.OpenTree(source, LinuxCalls.OPEN_TREE_CLONE | (recursive ? LinuxCalls.AT_RECURSIVE : 0)))
            ?? throw MountFailure(LinuxCalls.Errno, "copy the source mount (open_tree)", what);
        if (readOnly && LinuxCalls.MountSetattr(tree, recursive ? LinuxCalls.AT_RECURSIVE : 0, LinuxCalls.MOUNT_ATTR_RDONLY) != 0)
        {
            throw MountFailure(LinuxCalls.Errno, "make the copy read-only (mount_setattr)", what);
        }

        if (LinuxCalls.MoveMount(tree, target) != 0)
        {
            throw MountFailure(LinuxCalls.Errno, "attach the copy at its target (move_mount)", what);
        }
    }

    /// <summary>
    /// Mounts the overlay at <paramref name="target"/> from descriptors (<c>lowerdir=/proc/self/fd/N:…</c>, top first,
    /// i.e. the reverse of <paramref name="layersParentFirst"/>; <c>upperdir</c>, <c>workdir</c>), by hcsd itself with
    /// <c>mount(2)</c>: the kernel resolves each descriptor to what was opened, never a path a client could swap.
    /// </summary>
    public static void MountOverlay(IReadOnlyList<SafeFileHandle> layersParentFirst, SafeFileHandle upper, SafeFileHandle work, string target)
    {
        ArgumentNullException.ThrowIfNull(layersParentFirst);
        ArgumentNullException.ThrowIfNull(upper);
        ArgumentNullException.ThrowIfNull(work);
        Absolute(target);
        Directory.CreateDirectory(target);
        static string Fd(SafeFileHandle h) => "/proc/self/fd/" + h.DangerousGetHandle().ToString(CultureInfo.InvariantCulture);
        var options = $"lowerdir={string.Join(':', layersParentFirst.Reverse().Select(Fd))},upperdir={Fd(upper)},workdir={Fd(work)}";
        if (LinuxCalls.Mount("overlay", target, "overlay", options) != 0)
        {
            throw Failure(HResults.E_FAIL, $"mounting the overlay root file system at '{target}' failed: {LinuxCalls.Describe(LinuxCalls.Errno)}");
        }
    }

    private static HcsException MountFailure(int errno, string step, string what)
    {
        var hr = errno == LinuxCalls.ENOSYS ? HResults.ERROR_NOT_SUPPORTED : HResults.E_FAIL;
        return Failure(hr, $"{what}: could not {step}: {LinuxCalls.Describe(errno)}");
    }

    private static string MountTool => Tool("mount");

    private static string UmountTool => Tool("umount");

    private static readonly string[] s_toolDirectories = ["/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/"];

    private static string Tool(string name) =>
        s_toolDirectories.Select(d => d + name).FirstOrDefault(File.Exists) ?? name;

    private static bool NotMounted(string stderr) =>
        stderr.Contains("not mounted", StringComparison.Ordinal) || stderr.Contains("no mount point specified", StringComparison.Ordinal);

    private static void Absolute(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"'{path}' is not an absolute path", nameof(path));
        }
    }

    private static HcsException Failure(int hr, string message) => new(hr, result: ResultError.From(hr, message, "hcs.runc"));

    /// <summary>Runs <paramref name="file"/> with <paramref name="arguments"/> (no shell); returns its exit code and trimmed stderr.</summary>
    private static async Task<(int ExitCode, string Stderr)> RunAsync(string file, IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var result = await HostCommand.RunAsync(file, arguments, ct).ConfigureAwait(false);
        return (result.ExitCode, result.StandardError.Trim());
    }
}
