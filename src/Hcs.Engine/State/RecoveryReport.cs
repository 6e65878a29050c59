// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;

namespace Hcs.Engine.State;

/// <summary>What <see cref="ComputeEngine.RecoverAsync"/> found and did, for the service's log.</summary>
public sealed record RecoveryReport
{
    /// <summary>Live systems re-adopted in their real state (Created, Running or Paused), with no handle open.</summary>
    public IReadOnlyList<RecoveredSystem> Adopted { get; init; } = [];

    /// <summary>Systems that ended while the service was down: their exit is recorded and a reopened handle gets <c>SystemExited</c>.</summary>
    public IReadOnlyList<RecoveredSystem> ExitedWhileDown { get; init; } = [];

    /// <summary>
    /// Half-started systems (a Create or Start in flight when the old service died, or a system its backend could not
    /// re-adopt), terminated. Those recorded Creating are forgotten (the id is free); the others stay as stopped
    /// systems with an <c>UnexpectedExit</c> attributed to <c>ServiceStop</c>.
    /// </summary>
    public IReadOnlyList<RecoveredSystem> TerminatedHalfStarted { get; init; } = [];

    /// <summary>Systems whose Terminate was in flight when the old service died: the terminate was completed (<c>ForcedExit</c>).</summary>
    public IReadOnlyList<RecoveredSystem> TerminateCompleted { get; init; } = [];

    /// <summary>
    /// Live systems with <c>ShouldTerminateOnLastHandleClosed</c>: every handle died with the old service, so they were
    /// terminated and forgotten, as if their last handle had closed.
    /// </summary>
    public IReadOnlyList<RecoveredSystem> TerminatedNoHandles { get; init; } = [];

    /// <summary>Systems that were already stopped (with handles open) when the old service went away; kept so a reopened handle sees the exit.</summary>
    public IReadOnlyList<RecoveredSystem> Stopped { get; init; } = [];

    /// <summary>Stopped records older than <see cref="EngineOptions.StoppedRecordRetention"/>, deleted.</summary>
    public IReadOnlyList<RecoveredSystem> Expired { get; init; } = [];

    /// <summary>Records of a backend this service does not run: left in the store untouched and not registered.</summary>
    public IReadOnlyList<RecoveredSystem> BackendMissing { get; init; } = [];

    /// <summary>Runtime leftovers without a live system, cleaned by their backend, as <c>backend: what</c>.</summary>
    public IReadOnlyList<string> OrphansCleaned { get; init; } = [];

    /// <summary>
    /// Live systems a backend found with no live record (the record is missing or stale, or re-adoption failed), left
    /// running and untouched, as <c>backend: what</c>: an operator decides what becomes of them.
    /// </summary>
    public IReadOnlyList<string> LeftRunning { get; init; } = [];

    /// <summary>Records that could not be recovered (unreadable) and backend failures while cleaning orphans.</summary>
    public IReadOnlyList<RecoveredSystem> Problems { get; init; } = [];

    /// <summary>One line with the counts, e.g. for hcsd's start-up log.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"adopted {Adopted.Count}, exited while down {ExitedWhileDown.Count}, terminated half-started {TerminatedHalfStarted.Count}, " +
        $"terminate completed {TerminateCompleted.Count}, terminated without handles {TerminatedNoHandles.Count}, stopped kept {Stopped.Count}, " +
        $"expired {Expired.Count}, backend missing {BackendMissing.Count}, orphans cleaned {OrphansCleaned.Count}, left running {LeftRunning.Count}, problems {Problems.Count}");

    /// <summary>Every entry, one per line, for a detailed log.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        void Add(string what, IEnumerable<RecoveredSystem> systems)
        {
            foreach (var system in systems)
            {
                text.Append(CultureInfo.InvariantCulture, $"{what}: {system.Id} ({system.Backend}): {system.Detail}").Append('\n');
            }
        }

        Add("adopted", Adopted);
        Add("exited while down", ExitedWhileDown);
        Add("terminated half-started", TerminatedHalfStarted);
        Add("terminate completed", TerminateCompleted);
        Add("terminated without handles", TerminatedNoHandles);
        Add("stopped kept", Stopped);
        Add("expired", Expired);
        Add("backend missing", BackendMissing);
        foreach (var orphan in OrphansCleaned)
        {
            text.Append("orphan cleaned: ").Append(orphan).Append('\n');
        }

        foreach (var line in LeftRunning)
        {
            text.Append("left running: ").Append(line).Append('\n');
        }

        Add("problem", Problems);
        return text.ToString();
    }
}

/// <summary>One system in a <see cref="RecoveryReport"/>.</summary>
/// <param name="Id">The system id.</param>
/// <param name="Backend">Its backend's name.</param>
/// <param name="Detail">What was found or done, in words.</param>
public sealed record RecoveredSystem(string Id, string Backend, string Detail);
