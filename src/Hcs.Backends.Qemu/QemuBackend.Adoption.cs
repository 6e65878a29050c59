// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>Adoption of the VMs an earlier life of the service left running, and cleaning of orphans.</summary>
public sealed partial class QemuBackend
{
    /// <summary>Bound for an adopted QEMU's QMP greeting and capabilities (another client still connected never answers).</summary>
    private static readonly TimeSpan s_adoptConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Bound for a killed QEMU that is not our child to leave procfs (PID 1 reaps orphans every ~2 s here).</summary>
    private static readonly TimeSpan s_goneTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Marker files of a runtime directory this backend made (orphan cleaning leaves other directories alone).</summary>
    private static readonly string[] s_runtimeFiles =
        [QemuCommandLine.PidFile, QemuCommandLine.QmpSocket, QemuCommandLine.QemuLog, QemuCommandLine.ConsoleLog, QemuCommandLine.ConsoleSocket,
            LinuxHost.RuntimeDirectoryClaim, ConsoleLog.Fifo, ConsoleLog.Rotated];

    /// <summary>
    /// Re-attaches to a VM from the <see cref="QemuRuntimeFacts"/> it reported. The QEMU must be alive and be ours:
    /// the same pid and start time (a reused pid has another), the same boot, and a command line whose <c>-qmp</c>
    /// names this VM's runtime directory under our runtime root (the facts' directory must be that one). Then a new QMP
    /// connection and <c>query-status</c>: <c>running</c> → Running; <c>prelaunch</c>/<c>inmigrate</c> (never
    /// started) → Created; <c>paused</c>, <c>postmigrate</c> and other stopped states → Paused (Created if Start
    /// never completed); <c>shutdown</c> (the guest powered off, QEMU kept by <c>-no-shutdown</c>) → ended with
    /// GuestPowerOff; <c>guest-panicked</c> (<c>-action panic=pause</c>) → ended with GuestCrash and the console's
    /// tail, as a live VM's panic stops the system; <c>internal-error</c> → ended with WorkerDied. An ended VM's QEMU
    /// is killed and its runtime directory (and cgroup) removed.
    /// <para>
    /// A Save that was in progress when the service died is abandoned: its partial file (recorded in the facts before
    /// it was created) is removed, a migration still running is cancelled (it was streaming into the dead service's
    /// socket), and the state is queried after that: the VM stays paused, as Save requires.
    /// </para>
    /// <para>
    /// When the facts do not name a live QEMU of ours (it ended while the service was down, the pid was reused, the
    /// host rebooted, the facts are unreadable), the VM ended: any QEMU still running from this runtime directory under
    /// another pid (its <c>qemu.pid</c>) is killed so nothing runs twice, the runtime directory is removed, and the
    /// exit is WorkerDied with the reason. The adopted VM's later end is seen as its QMP connection's EOF.
    /// </para>
    /// </summary>
    public async Task<BackendAdoption> AdoptAsync(BackendAdoptContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var run = RuntimeDirectoryOf(_runtimeRoot, context.Id);
        var facts = QemuRuntimeFacts.TryParse(context.RuntimeFacts);
        if (Unrecognised(facts, run) is { } problem)
        {
            var killed = await KillQemuOfAsync(run, context.Time).ConfigureAwait(false);
            await RemoveLeftoversAsync(context.Id, run, context.Time).ConfigureAwait(false);
            return Ended(BackendExitCause.WorkerDied, $"the VM ended while the service was down: {problem}"
                + (killed is { } pid ? string.Create(CultureInfo.InvariantCulture, $"; a QEMU still running from its runtime directory (pid {pid}) was killed") : ""));
        }

        var worker = QemuWorker.Adopted(facts!.Pid, facts.StartTime);
        QmpClient qmp;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_adoptConnectTimeout);
            qmp = await QmpClient.ConnectAsync(Path.Combine(run, QemuCommandLine.QmpSocket), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or QmpDisconnectedException or QmpProtocolException or QmpErrorException
                                   || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Gone in the meantime, or a QMP that does not answer: a VM nobody can drive is not left running.
            await KillAsync(worker, null, context.Time).ConfigureAwait(false);
            await RemoveLeftoversAsync(context.Id, run, context.Time).ConfigureAwait(false);
            return Ended(BackendExitCause.WorkerDied, $"the VM's QEMU (pid {facts.Pid}) could not be reached over QMP after the service restarted ({e.Message}); it was stopped");
        }

        try
        {
            string status;
            try
            {
                if (facts.SaveTemporaryFile is { } partial)
                {
                    await AbandonSaveAsync(qmp, partial, run, context.Time, cancellationToken).ConfigureAwait(false);
                }

                status = (await qmp.ExecuteAsync("query-status", cancellationToken: cancellationToken).ConfigureAwait(false))
                    .GetProperty("status").GetString() ?? "";
            }
            catch (QmpDisconnectedException)
            {
                await KillAsync(worker, qmp, context.Time).ConfigureAwait(false);
                await RemoveLeftoversAsync(context.Id, run, context.Time).ConfigureAwait(false);
                return Ended(BackendExitCause.WorkerDied, "the VM's QEMU exited while the service was re-attaching to it");
            }

            BackendExit? ended = status switch
            {
                "shutdown" => new(BackendExitCause.GuestPowerOff, Detail: "the guest powered off while the service was down"),
                "guest-panicked" => new(BackendExitCause.GuestCrash,
                    Detail: "the guest crashed while the service was down; console:\n" + await ConsoleTailAsync(run).ConfigureAwait(false)),
                "internal-error" => new(BackendExitCause.WorkerDied, Detail: "QEMU stopped the VM with an internal error while the service was down"),
                _ => null,
            };
            if (ended is not null)
            {
                await KillAsync(worker, qmp, context.Time).ConfigureAwait(false);
                await RemoveLeftoversAsync(context.Id, run, context.Time).ConfigureAwait(false);
                return new BackendAdoption(null, SystemState.Stopped, ended);
            }

            var state = status switch
            {
                "running" => SystemState.Running,
                "prelaunch" or "inmigrate" => SystemState.Created,
                _ => facts.Started ? SystemState.Paused : SystemState.Created,
            };
            var vm = context.Document.VirtualMachine!;
            SavedStateFile? restore = null;
            if (status == "inmigrate" && vm.RestoreState?.SaveStateFilePath is { } saved)
            {
                restore = await QemuSavedState.OpenAsync(saved, vm, context.Id).ConfigureAwait(false); // Start has yet to restore it
            }

            var controls = CpuControls.From(vm.ComputeTopology?.Processor) with { Limit = facts.CpuLimit, Weight = facts.CpuWeight };
            var cgroup = facts.HasCgroup ? ExistingCgroup(run) : null;
            var system = new QemuSystem(new BackendSystemContext(context.Id, context.Document, context.Events, context.Time), this, worker, qmp, run,
                restore, cgroup is null ? controls with { Limit = null, Weight = null } : controls, cgroup, facts,
                ConsoleLog.Resume(run, _settings.ConsoleLogMaxBytes, context.Id));
            return new BackendAdoption(system, state, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Whatever else failed (a saved-state file gone for a VM still to be restored, QEMU answering nonsense): the VM
            // cannot be managed, so it is stopped rather than left running unseen.
            await KillAsync(worker, qmp, context.Time).ConfigureAwait(false);
            await RemoveLeftoversAsync(context.Id, run, context.Time).ConfigureAwait(false);
            return Ended(BackendExitCause.WorkerDied, $"the VM could not be re-attached after the service restarted and was stopped: {e.Message}");
        }
        catch
        {
            await qmp.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Removes runtime directories under the runtime root that belong to none of <paramref name="knownIds"/> and
    /// whose QEMU is gone. A directory whose <c>qemu.pid</c> names a live QEMU with that directory on its command line
    /// is a VM still running: it is left untouched and reported (<see cref="OrphanLines.LeftRunning"/>), since a
    /// missing or stale record is no reason to end it. Only direct subdirectories of our runtime root that this
    /// backend made (empty, or holding one of its files) are touched; symbolic links are never followed.
    /// </summary>
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, CancellationToken cancellationToken) =>
        SweepAsync(knownIds, _ => false, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, IReadOnlySet<string> endedIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endedIds);
        var ended = endedIds.Select(id => Path.GetFileName(RuntimeDirectoryOf(_runtimeRoot, id))).ToHashSet(StringComparer.Ordinal);
        return SweepAsync(knownIds, ended.Contains, cancellationToken);
    }

    /// <summary>
    /// <see cref="CleanOrphansAsync(IReadOnlySet{string}, CancellationToken)"/>, and with <paramref name="killRunning"/>
    /// a live QEMU is killed (SIGKILL, then waited for) and its directory removed too (tests, and an operator who wants
    /// every unknown VM gone).
    /// </summary>
    public Task<IReadOnlyList<string>> CleanOrphansAsync(IReadOnlySet<string> knownIds, bool killRunning, CancellationToken cancellationToken) =>
        SweepAsync(knownIds, _ => killRunning, cancellationToken);

    private async Task<IReadOnlyList<string>> SweepAsync(IReadOnlySet<string> knownIds, Func<string, bool> endLive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(knownIds);
        var lines = new List<string>();
        var root = new DirectoryInfo(_runtimeRoot);
        if (!root.Exists)
        {
            return lines;
        }

        var known = knownIds.Select(id => Path.GetFileName(RuntimeDirectoryOf(_runtimeRoot, id))).ToHashSet(StringComparer.Ordinal);
        foreach (var entry in root.EnumerateDirectories())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (known.Contains(entry.Name) || entry.LinkTarget is not null || !IsRuntimeDirectory(entry))
            {
                continue;
            }

            if (!endLive(entry.Name) && await LiveQemuOfAsync(entry.FullName).ConfigureAwait(false) is { } live)
            {
                lines.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{OrphanLines.LeftRunning}qemu: {entry.FullName}: its QEMU (pid {live.Pid}) is running with no record"));
                continue;
            }

            var killed = await KillQemuOfAsync(entry.FullName, TimeProvider.System).ConfigureAwait(false);
            string removed;
            try
            {
                entry.Delete(recursive: true);
                removed = "removed its runtime directory";
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                removed = $"could not remove its runtime directory: {e.Message}";
            }

            lines.Add(killed is { } pid
                ? string.Create(CultureInfo.InvariantCulture, $"qemu: orphan {entry.FullName}: killed its QEMU (pid {pid}), {removed}")
                : $"qemu: orphan {entry.FullName}: no QEMU running, {removed}");
        }

        return lines;
    }

    /// <summary>Why <paramref name="facts"/> do not name a live QEMU of runtime directory <paramref name="run"/>, or null if they do.</summary>
    private static string? Unrecognised(QemuRuntimeFacts? facts, string run)
    {
        if (facts is null)
        {
            return "its runtime facts are missing or unreadable";
        }

        if (facts.RuntimeDirectory != run)
        {
            return $"its runtime facts name the directory '{facts.RuntimeDirectory}', not '{run}'";
        }

        if (facts.BootId is { } boot && HostProcess.BootId() is { } now && boot != now)
        {
            return "the host has restarted since";
        }

        var pid = facts.Pid.ToString(CultureInfo.InvariantCulture);
        if (ProcessStat.Read(facts.Pid) is not { } stat)
        {
            return $"its QEMU (pid {pid}) is gone";
        }

        if (stat.StartTime != facts.StartTime)
        {
            return $"its QEMU (pid {pid}) is gone; the pid now belongs to another process";
        }

        if (stat.IsZombie)
        {
            return $"its QEMU (pid {pid}) has exited";
        }

        return QemuCommandLine.IsQemuOf(HostProcess.CommandLineOf(facts.Pid), run)
            ? null
            : $"process {pid} is not the QEMU of '{run}'";
    }

    /// <summary>
    /// Kills the QEMU that <c>run/qemu.pid</c> names if it is alive and its command line references
    /// <paramref name="run"/>, and waits until it is gone; returns its pid, or null when there was none.
    /// </summary>
    private static async Task<int?> KillQemuOfAsync(string run, TimeProvider time)
    {
        if (await LiveQemuOfAsync(run).ConfigureAwait(false) is not { } live)
        {
            return null;
        }

        await KillAsync(QemuWorker.Adopted(live.Pid, live.StartTime), null, time).ConfigureAwait(false);
        return live.Pid;
    }

    /// <summary>The QEMU that <c>run/qemu.pid</c> names if it is alive (not a zombie) and its command line references <paramref name="run"/>.</summary>
    private static async Task<(int Pid, ulong StartTime)?> LiveQemuOfAsync(string run)
    {
        int pid;
        try
        {
            if (!int.TryParse((await File.ReadAllTextAsync(Path.Combine(run, QemuCommandLine.PidFile)).ConfigureAwait(false)).Trim(),
                    NumberStyles.None, CultureInfo.InvariantCulture, out pid) || pid <= 1)
            {
                return null;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        if (ProcessStat.Read(pid) is not { IsZombie: false } stat || !QemuCommandLine.IsQemuOf(HostProcess.CommandLineOf(pid), run))
        {
            return null;
        }

        return (pid, stat.StartTime);
    }

    /// <summary>SIGKILL to an adopted QEMU, then waits for its QMP EOF (when connected) and its leaving procfs.</summary>
    private static async Task KillAsync(QemuWorker worker, QmpClient? qmp, TimeProvider time)
    {
        worker.Kill();
        if (qmp is not null)
        {
            await ((Task)qmp.Closed).WaitAsync(s_goneTimeout, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await qmp.DisposeAsync().ConfigureAwait(false);
        }

        await new HostProcess(worker.Pid, worker.StartTime).WaitForExitAsync(s_goneTimeout, time).ConfigureAwait(false);
    }

    /// <summary>
    /// Abandons the Save the previous service instance had in progress: removes its partial file (only a hidden
    /// <c>.tmp</c> file, the name Save gives it), cancels a migration still running and waits until it is over.
    /// </summary>
    private static async Task AbandonSaveAsync(QmpClient qmp, string partial, string run, TimeProvider time, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(partial);
        if (Path.IsPathFullyQualified(partial) && name.StartsWith('.') && name.EndsWith(QemuSaveRestore.SaveTemporarySuffix, StringComparison.Ordinal))
        {
            try
            {
                File.Delete(partial);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: a leftover hidden file next to the target.
            }
        }

        var started = time.GetTimestamp();
        while (true)
        {
            var info = await qmp.ExecuteAsync("query-migrate", cancellationToken: cancellationToken).ConfigureAwait(false);
            var status = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status is null or "none" or "completed" or "failed" or "cancelled" || time.GetElapsedTime(started) > s_goneTimeout)
            {
                break;
            }

            if (status != "cancelling")
            {
                try
                {
                    await qmp.ExecuteAsync("migrate_cancel", cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (QmpErrorException)
                {
                    // It ended on its own meanwhile.
                }
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), time, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            File.Delete(Path.Combine(run, QemuSaveRestore.SaveSocket));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort.
        }
    }

    /// <summary>Removes a VM's runtime directory and, if it had one, its (now empty) cgroup.</summary>
    private async Task RemoveLeftoversAsync(string id, string run, TimeProvider time)
    {
        try
        {
            Directory.Delete(run, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: CleanOrphans reports and retries it.
        }

        if (ExistingCgroup(run) is { } cgroup)
        {
            await QemuCpuControls.RemoveAsync(cgroup, time).ConfigureAwait(false);
        }
    }

    private static bool IsRuntimeDirectory(DirectoryInfo directory)
    {
        try
        {
            return !directory.EnumerateFileSystemInfos().Any() || s_runtimeFiles.Any(f => Path.Exists(Path.Combine(directory.FullName, f)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static BackendAdoption Ended(BackendExitCause cause, string detail) => new(null, SystemState.Stopped, new BackendExit(cause, Detail: detail));

    /// <summary>The console log's last 64 KiB (empty when there is none).</summary>
    private static Task<string> ConsoleTailAsync(string run) => ConsoleLog.ReadTailAsync(run);

    /// <summary>How much of <c>qemu.log</c> an error quotes (16 KiB).</summary>
    internal const int QemuLogTailBytes = 16 * 1024;

    /// <summary>QEMU's stdout and stderr so far (<c>qemu.log</c> in the runtime directory; empty when unreadable).</summary>
    internal static async Task<string> ReadQemuLogAsync(string run) =>
        Encoding.UTF8.GetString(await ConsoleLog.ReadFileTailAsync(Path.Combine(run, QemuCommandLine.QemuLog), QemuLogTailBytes).ConfigureAwait(false));
}
