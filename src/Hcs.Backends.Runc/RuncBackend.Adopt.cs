// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Hcs.Engine.Backends;
using Hcs.Schema;
using Hcs.Shim.Protocol;

namespace Hcs.Backends.Runc;

/// <summary>
/// Re-adoption after a service restart and the removal of orphans. What is true is asked of runc (<c>runc state</c>)
/// and of the monitor (alive by pid and start time, its control socket, its exit records); the runtime facts only say
/// where to look. See docs/containers.md (Restarts of the service).
/// </summary>
public sealed partial class RuncBackend
{
    private const string WhileDown = " while the service was down";
    private static readonly TimeSpan s_adoptBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Re-attaches to a container from the facts an earlier instance reported. A running or paused container (runc says
    /// so and its monitor lives) comes back Running or Paused with its monitor connection, exit watch, cgroup readers
    /// and run-time mounts. A container never started comes back Created and startable; one whose Start was cut short
    /// (<c>runc create</c> done, never started) is rolled back to Created first. A container that ended while the
    /// service was down comes back as an exit — the init's recorded status when the monitor wrote one (exit 0:
    /// <see cref="BackendExitCause.GuestPowerOff"/>; otherwise <see cref="BackendExitCause.WorkerDied"/> with the
    /// status), else <see cref="BackendExitCause.WorkerDied"/> — and everything it held is released. A live container
    /// whose monitor died is killed and reported as <see cref="BackendExitCause.WorkerDied"/>. Empty facts (the service
    /// went down inside Create, before reporting any) release what Create made and come back as
    /// <see cref="BackendExitCause.WorkerDied"/>; facts of another shape or naming other paths are refused
    /// (<c>E_INVALIDARG</c>). Processes exec'd before
    /// the restart are not re-attached (their stdio was connected to the service that died).
    /// </summary>
    public async Task<BackendAdoption> AdoptAsync(BackendAdoptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        const string Label = "RuncBackend.Adopt";
        var layout = LayoutOf(context.Id);
        var scratch = new Scratch(context.Document.Container?.Storage?.Path ?? Path.Combine(layout.Directory, "scratch"));
        if (string.IsNullOrWhiteSpace(context.RuntimeFacts))
        {
            // No facts: the service went down inside Create (they are reported when it completes). Whatever it made is
            // where this backend would have made it; a monitor cannot exist (Start never ran).
            var half = ShimMonitors.Under(_settings.RuntimeRoot).TryGetValue(layout.Directory, out var stray) ? stray : (HostProcess?)null;
            await ReleaseAsync(layout, scratch, half, await RuncStatusAsync(layout.Name, cancellationToken).ConfigureAwait(false), context.Time, cancellationToken)
                .ConfigureAwait(false);
            return new BackendAdoption(null, SystemState.Stopped,
                new BackendExit(BackendExitCause.WorkerDied, Detail: "the service went down while the container was being created"));
        }

        var facts = RuncRuntimeFacts.Parse(context.RuntimeFacts)
            ?? throw new HcsException(HResults.E_INVALIDARG, Label, context.Id,
                result: ResultError.From(HResults.E_INVALIDARG, "the runtime facts are not those of a runc container", "runc"));
        if (facts.RuntimeDirectory != layout.Directory || facts.ContainerId != layout.Name || facts.RuncRoot != RuncRoot
            || facts.CgroupsPath != layout.CgroupsPath || facts.Scratch != scratch.Root)
        {
            // Never act on paths this backend would not have made (the settings changed, or the record is not ours).
            throw new HcsException(HResults.E_INVALIDARG, Label, context.Id, result: ResultError.From(HResults.E_INVALIDARG,
                $"the runtime facts name '{facts.RuntimeDirectory}' (runc root '{facts.RuncRoot}'), but this backend keeps the container in '{layout.Directory}' (runc root '{RuncRoot}'): were RuntimeRoot, RuncRoot or CgroupParent changed?",
                "runc"));
        }

        scratch = scratch with { Owner = facts.ScratchOwner?.ToCaller() };
        var systemContext = new BackendSystemContext(context.Id, context.Document, context.Events, context.Time);
        var monitor = FindMonitor(facts, layout);
        var initPid = facts.InitPid ?? ReadInitPid(layout.Directory);
        var state = await RuncStatusAsync(layout.Name, cancellationToken).ConfigureAwait(false);
        string? unreachable = null; // why a live monitor could not be used (another protocol version)

        if (state is "running" or "paused" && monitor is { } alive && initPid is { } init)
        {
            (var adopted, unreachable) = await ReattachAsync(systemContext, layout, scratch, alive, init, state == "paused", cancellationToken).ConfigureAwait(false);
            if (adopted is not null)
            {
                return new BackendAdoption(adopted, state == "paused" ? SystemState.Paused : SystemState.Running, null);
            }

            // The init ended between runc state and the connection: fall through to the exit.
            state = await RuncStatusAsync(layout.Name, cancellationToken).ConfigureAwait(false);
        }
        else if (state is null or "created" && !facts.Started && Directory.Exists(layout.Directory))
        {
            // Never started, or a Start cut short before runc start: no workload ever ran. Back to Created.
            await KillAndDeleteAsync(layout.Name, state, cancellationToken).ConfigureAwait(false);
            await StopMonitorAsync(monitor, context.Time).ConfigureAwait(false);
            // A monitor caught inside runc create may have finished it meanwhile.
            await KillAndDeleteAsync(layout.Name, await RuncStatusAsync(layout.Name, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            var created = await ReadoptCreatedAsync(systemContext, layout, scratch, cancellationToken).ConfigureAwait(false);
            if (created is not null)
            {
                return new BackendAdoption(created, SystemState.Created, null);
            }

            await ReleaseAsync(layout, scratch, monitor: null, state: null, context.Time, cancellationToken).ConfigureAwait(false);
            return new BackendAdoption(null, SystemState.Stopped,
                new BackendExit(BackendExitCause.WorkerDied, Detail: "the container's bundle was lost" + WhileDown));
        }

        var record = initPid is { } pid ? ProcessExit.ReadRecord(layout.Directory, pid) : null;
        var exit = record is not null
            ? RuncSystem.ExitOf(record, WhileDown)
            : new BackendExit(BackendExitCause.WorkerDied, Detail: state is "running" or "paused"
                ? (unreachable is not null ? unreachable + "; the container was killed" : "the container monitor ended" + WhileDown + "; the container was killed")
                : "the container ended" + WhileDown + " and its monitor left no exit record");
        await ReleaseAsync(layout, scratch, monitor, state, context.Time, cancellationToken).ConfigureAwait(false);
        return new BackendAdoption(null, SystemState.Stopped, exit);
    }

    /// <summary>
    /// Connects to a live monitor (the hello checks its protocol version) and checks that it serves this init; no system
    /// when the init turned out to have ended (its exit record exists: its event went to no client) or the monitor went
    /// away meanwhile, or when it speaks another protocol version: then, like a monitor that cannot be reached, the
    /// container is killed and reported as <see cref="BackendExitCause.WorkerDied"/>, and the reason says which versions.
    /// </summary>
    private async Task<(RuncSystem? System, string? Unreachable)> ReattachAsync(BackendSystemContext context, ContainerLayout layout, Scratch scratch, HostProcess monitor,
        int initPid, bool paused, CancellationToken cancellationToken)
    {
        ShimClient shim;
        using var bound = new CancellationTokenSource(s_adoptBound, context.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        try
        {
            shim = await ShimClient.ConnectAsync(Path.Combine(layout.Directory, ShimProtocol.SocketName), linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return (null, null); // The monitor does not answer.
        }
        catch (SocketException)
        {
            return (null, null); // The monitor is ending (it removes its socket once the init is gone).
        }
        catch (ShimVersionException e)
        {
            // A monitor of another build (hcs-shim was replaced while the container ran): this engine cannot talk to it.
            return (null, e.Message);
        }
        catch (ShimErrorException)
        {
            return (null, null);
        }

        try
        {
            if (shim.Hello.InitPid != initPid)
            {
                throw new HcsException(HResults.E_FAIL, "RuncBackend.Adopt", context.Id, result: ResultError.From(HResults.E_FAIL,
                    string.Create(CultureInfo.InvariantCulture, $"the container monitor serves init {shim.Hello.InitPid}, not {initPid}"), "runc"));
            }

            // Connected first, then the record: an exit before the connection is in the file, one after it is an event.
            if (ProcessExit.ReadRecord(layout.Directory, initPid) is not null)
            {
                await shim.DisposeAsync().ConfigureAwait(false);
                return (null, null);
            }
        }
        catch
        {
            await shim.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return (RuncSystem.Adopted(context, this, layout, scratch, shim, monitor, initPid, paused), null);
    }

    /// <summary>A never-started container: its bundle and (re-mounted if needed) root file system, startable.</summary>
    private async Task<RuncSystem?> ReadoptCreatedAsync(BackendSystemContext context, ContainerLayout layout, Scratch scratch, CancellationToken cancellationToken)
    {
        if (!File.Exists(Path.Combine(layout.Directory, "config.json")) || !Directory.Exists(scratch.Upper))
        {
            return null;
        }

        if (!MountTable.Under(layout.Rootfs).Contains(layout.Rootfs))
        {
            var layers = context.Document.Container!.Storage!.Layers!.Select(l => l.Path!).ToList();
            await RootFs.MountAsync(layers, scratch.Upper, scratch.Work, layout.Rootfs, cancellationToken).ConfigureAwait(false);
            await RuncCli.RunCheckedAsync("mount", ["--make-shared", layout.Rootfs], "RuncBackend.Adopt", context.Id, cancellationToken).ConfigureAwait(false);
        }

        var system = new RuncSystem(context, this, layout, scratch);
        system.ReportFacts();
        return system;
    }

    /// <summary>
    /// Finds runtime directories, runc containers and monitors under this backend's roots that belong to none of
    /// <paramref name="knownIds"/>, kills them (runc delete --force, the monitor), unmounts and removes them. A
    /// container runc says is running or paused is a workload still alive: it is left untouched (monitor, mounts,
    /// directory) and reported (<see cref="OrphanLines.LeftRunning"/>), since a missing or stale record is no reason
    /// to end it. A scratch directory outside the runtime root (<c>Storage.Path</c>) is not known without the record,
    /// so it is left. Call it before creating systems: a container being created by this process would look like an
    /// orphan.
    /// </summary>
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, CancellationToken cancellationToken) =>
        SweepAsync(knownIds, _ => false, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, IReadOnlySet<string> endedIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endedIds);
        var ended = endedIds.Select(HostNameOf).ToHashSet(StringComparer.Ordinal);
        return SweepAsync(knownIds, ended.Contains, cancellationToken);
    }

    /// <summary>
    /// <see cref="CleanOrphansAsync(IReadOnlySet{string}, CancellationToken)"/>, and with <paramref name="killRunning"/>
    /// running and paused containers are killed and removed too (tests, and an operator who wants every unknown
    /// container gone).
    /// </summary>
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, bool killRunning, CancellationToken cancellationToken) =>
        SweepAsync(knownIds, _ => killRunning, cancellationToken);

    private async Task<IReadOnlyList<string>> SweepAsync(IReadOnlySet<string> knownIds, Func<string, bool> endLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(knownIds);
        var known = knownIds.Select(HostNameOf).ToHashSet(StringComparer.Ordinal);
        var root = _settings.RuntimeRoot.TrimEnd('/');
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (Directory.Exists(root))
        {
            foreach (var directory in Directory.EnumerateDirectories(root))
            {
                if (directory != RuncRoot.TrimEnd('/') && !Path.GetFileName(directory).StartsWith('.'))
                {
                    names.Add(Path.GetFileName(directory));
                }
            }
        }

        if (Directory.Exists(RuncRoot))
        {
            foreach (var directory in Directory.EnumerateDirectories(RuncRoot))
            {
                names.Add(Path.GetFileName(directory));
            }
        }

        var monitors = ShimMonitors.Under(root);
        foreach (var directory in monitors.Keys)
        {
            names.Add(Path.GetFileName(directory));
        }

        var lines = new List<string>();
        foreach (var name in names.Where(n => !known.Contains(n)))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var directory = Path.Combine(root, name);
            var state = await RuncStatusAsync(name, cancellationToken).ConfigureAwait(false);
            HostProcess? monitor = monitors.TryGetValue(directory, out var found) ? found : null;
            var hadDirectory = Directory.Exists(directory);
            if (state is "running" or "paused" && !endLive(name))
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{OrphanLines.LeftRunning}runc container '{name}' is {state} with no record (monitor: {(monitor is { } live ? live.Pid.ToString(CultureInfo.InvariantCulture) : "none")}; runtime directory: {(hadDirectory ? directory : "none")})"));
                continue;
            }

            await KillAndDeleteAsync(name, state, cancellationToken).ConfigureAwait(false);
            await StopMonitorAsync(monitor, TimeProvider.System).ConfigureAwait(false);
            await MountTable.UnmountAllUnderAsync(directory, cancellationToken).ConfigureAwait(false);
            TryDeleteDirectory(directory);
            CgroupParents.RemoveEmpty($"/{_settings.CgroupParent}/{name}", Cgroups);
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"runc: orphan container '{name}' (runc state: {state ?? "none"}; monitor: {(monitor is { } m ? m.Pid.ToString(CultureInfo.InvariantCulture) : "none")}; runtime directory: {(hadDirectory ? directory : "none")}) killed and removed"));
        }

        return lines;
    }

    /// <summary>Ends a container that ended (or must end) while the service was down and removes everything it held.</summary>
    private async Task ReleaseAsync(ContainerLayout layout, Scratch scratch, HostProcess? monitor, string? state, TimeProvider time, CancellationToken cancellationToken)
    {
        await KillAndDeleteAsync(layout.Name, state, cancellationToken).ConfigureAwait(false);
        await StopMonitorAsync(monitor, time).ConfigureAwait(false);
        await MountTable.UnmountAllUnderAsync(layout.Directory, cancellationToken).ConfigureAwait(false);
        await scratch.RemoveAsync().ConfigureAwait(false);
        TryDeleteDirectory(layout.Directory);
        CgroupParents.RemoveEmpty(layout.CgroupsPath, Cgroups);
    }

    /// <summary><c>runc delete --force</c> (which kills the init), after thawing a paused container so the SIGKILL lands.</summary>
    private async Task KillAndDeleteAsync(string name, string? state, CancellationToken cancellationToken)
    {
        if (state is null)
        {
            return;
        }

        if (state == "paused")
        {
            await RuncAsync("resume", name, cancellationToken).ConfigureAwait(false);
        }

        await RuncAsync("delete", name, ["--force"], [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A monitor whose init is gone exits by itself once it has reaped everything; one that does not is killed.</summary>
    private static async Task StopMonitorAsync(HostProcess? monitor, TimeProvider time)
    {
        if (monitor is { } process && !await process.WaitForExitAsync(TimeSpan.FromSeconds(5), time).ConfigureAwait(false))
        {
            process.Kill();
            await process.WaitForExitAsync(TimeSpan.FromSeconds(5), time).ConfigureAwait(false);
        }
    }

    /// <summary>The monitor the facts name if it still runs, else any monitor serving this runtime directory (a Start cut short before the facts were reported).</summary>
    private HostProcess? FindMonitor(RuncRuntimeFacts facts, ContainerLayout layout)
    {
        if (facts.Monitor is { } m && new HostProcess(m.Pid, m.StartTime) is { IsAlive: true } recorded)
        {
            return recorded;
        }

        return ShimMonitors.Under(_settings.RuntimeRoot).TryGetValue(layout.Directory, out var found) ? found : null;
    }

    private static int? ReadInitPid(string runtimeDirectory)
    {
        try
        {
            return int.TryParse(File.ReadAllText(Path.Combine(runtimeDirectory, "init.pid")).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0
                ? pid
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>runc delete --force</c> of this layout's container only when it is the one this system made: runc's record of
    /// it names this runtime directory as its bundle (as given, or resolved: a bundle holding this directory's claim,
    /// <see cref="LinuxHost.HoldsClaimOf"/>). A container of
    /// the same name that another system or service made (another runtime root over a shared runc root, a leftover) is
    /// left alone.
    /// </summary>
    internal async Task DeleteOwnContainerAsync(ContainerLayout layout, CancellationToken cancellationToken)
    {
        var result = await RuncAsync("state", layout.Name, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            return;
        }

        string? bundle;
        try
        {
            using var state = JsonDocument.Parse(result.StandardOutput);
            bundle = state.RootElement.TryGetProperty("bundle", out var b) ? b.GetString() : null;
        }
        catch (JsonException)
        {
            return;
        }

        if (bundle == layout.Directory || (bundle is not null && LinuxHost.HoldsClaimOf(bundle, layout.Directory)))
        {
            await RuncAsync("delete", layout.Name, ["--force"], [], cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>runc's status of container <paramref name="name"/> (<c>created</c>, <c>running</c>, <c>paused</c>, <c>stopped</c>); null when runc does not know it.</summary>
    internal async Task<string?> RuncStatusAsync(string name, CancellationToken cancellationToken)
    {
        var result = await RuncAsync("state", name, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            return null;
        }

        try
        {
            using var state = JsonDocument.Parse(result.StandardOutput);
            return state.RootElement.TryGetProperty("status", out var status) ? status.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
