// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Shim.Protocol;

namespace Hcs.Shim;

/// <summary>What <see cref="Reaper.Signal"/> did.</summary>
internal enum SignalOutcome
{
    Sent,
    NotFound,
    Exited,
    Failed,
}

/// <summary>
/// Reaps every child of the monitor (a child subreaper) on one dedicated thread, without pid-reuse races:
/// <c>waitid(P_ALL, WEXITED | WNOWAIT)</c> names a dead child without reaping it; then, under <see cref="_lock"/>, the
/// pid is marked exited and only then reaped. <see cref="Signal"/> takes the same lock, so it never reaches a recycled pid.
/// Children are runc processes (<see cref="RunAsync"/>: their status completes a task), container processes the monitor has
/// claimed (init, exec'd: their exit is reported), and processes not claimed yet (a pid that ends before its pid file
/// was read): those are remembered and reported when claimed.
/// </summary>
internal sealed unsafe class Reaper : IDisposable
{
    private static readonly TimeSpan s_unclaimedLifetime = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly Dictionary<int, TaskCompletionSource<int>> _runs = [];
    private readonly Dictionary<int, Tracked> _tracked = [];
    private readonly Dictionary<int, Tracked> _unclaimed = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<Tracked> _onExit;
    private bool _initExited;
    private bool _closed;

    /// <param name="onExit">Reports a claimed process's exit (exit record, then event). Called on the reaper thread, or
    /// under the lock by <see cref="Claim"/> for a process that had already ended.</param>
    public Reaper(Action<Tracked> onExit) => _onExit = onExit;

    /// <summary>Completes once the init has exited and every child has been reaped.</summary>
    public Task Finished => _finished.Task;

    /// <inheritdoc/>
    public void Dispose() => _wake.Dispose();

    /// <summary>Starts the reaping thread.</summary>
    public void Start() => new Thread(Loop) { IsBackground = true, Name = "reaper" }.Start();

    /// <summary>Spawns a helper (runc) under the lock, so its exit cannot be reaped before it is registered.</summary>
    /// <returns>The raw wait status of the helper.</returns>
    public Task<int> RunAsync(Func<int> spawn)
    {
        var tcs = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_closed)
            {
                throw new InvalidOperationException("the container has exited");
            }

            _runs[spawn()] = tcs;
        }

        _wake.Release();
        return tcs.Task;
    }

    /// <summary>
    /// Makes <paramref name="pid"/> (read from a runc pid file) a reported process. <paramref name="onClaimed"/> runs
    /// under the lock before any exit of that pid can be reported (the exec reply goes there); a process that already
    /// ended is reported right after it. Its argument is the pid inside the container.
    /// </summary>
    public void Claim(int pid, int nsPid, bool isInit, Action<int> onClaimed)
    {
        lock (_lock)
        {
            PruneUnclaimed();
            if (_unclaimed.Remove(pid, out var done))
            {
                done.IsInit = isInit;
                done.NsPid = done.NsPid != 0 ? done.NsPid : nsPid;
                _tracked[pid] = done;
                _initExited |= isInit;
                onClaimed(done.NsPid);
                _onExit(done);
            }
            else
            {
                _tracked[pid] = new Tracked { Pid = pid, NsPid = nsPid, IsInit = isInit };
                onClaimed(nsPid);
            }
        }

        _wake.Release();
    }

    /// <summary>
    /// Forgets unclaimed exits older than <see cref="s_unclaimedLifetime"/> (a pid is claimed milliseconds after its
    /// runc exits; a stale entry must not be taken for a new process that reuses the pid). Called under the lock.
    /// </summary>
    private void PruneUnclaimed()
    {
        if (_unclaimed.Count == 0)
        {
            return;
        }

        var oldest = TimeProvider.System.GetUtcNow() - s_unclaimedLifetime;
        foreach (var (pid, t) in _unclaimed)
        {
            if (t.Time < oldest)
            {
                _ = _unclaimed.Remove(pid);
                Native.Log($"forgot the exit of unclaimed child {pid} ({t.Exit?.Describe()})");
            }
        }
    }

    /// <summary><c>kill(pid, signal)</c> for a claimed process that has not been reaped.</summary>
    public SignalOutcome Signal(int pid, int signal, out int errno)
    {
        errno = 0;
        lock (_lock)
        {
            if (!_tracked.TryGetValue(pid, out var t))
            {
                return SignalOutcome.NotFound;
            }

            if (t.Exit is not null)
            {
                return SignalOutcome.Exited;
            }

            if (Native.kill(pid, signal) != 0)
            {
                errno = Native.Errno;
                return SignalOutcome.Failed;
            }

            return SignalOutcome.Sent;
        }
    }

    private void Loop()
    {
        byte* info = stackalloc byte[Native.SigInfoSize];
        while (true)
        {
            new Span<byte>(info, Native.SigInfoSize).Clear();
            if (Native.waitid(Native.P_ALL, 0, info, Native.WEXITED | Native.WNOWAIT) != 0)
            {
                int errno = Native.Errno;
                if (errno == Native.EINTR)
                {
                    continue;
                }

                if (errno == Native.ECHILD && TryFinish())
                {
                    return;
                }

                if (errno != Native.ECHILD)
                {
                    Native.Log($"waitid: errno {errno}");
                }

                _ = _wake.Wait(100);
                continue;
            }

            int pid = *(int*)(info + 16);
            if (pid <= 0)
            {
                continue;
            }

            Tracked? report = null;
            lock (_lock)
            {
                bool tracked = _tracked.TryGetValue(pid, out var t);
                int nsPid = tracked || _runs.ContainsKey(pid) ? 0 : ReadNsPid(pid); // a zombie still has its status file
                int raw = Reap(pid);
                var exit = ProcessExit.FromWaitStatus(pid, raw);
                if (_runs.Remove(pid, out var tcs))
                {
                    tcs.TrySetResult(raw);
                }
                else if (tracked && t!.Exit is null)
                {
                    t.Exit = exit;
                    t.Time = TimeProvider.System.GetUtcNow();
                    _initExited |= t.IsInit;
                    report = t;
                }
                else if (!tracked)
                {
                    PruneUnclaimed();
                    _unclaimed[pid] = new Tracked { Pid = pid, NsPid = nsPid, Exit = exit, Time = TimeProvider.System.GetUtcNow() };
                }
            }

            if (report is not null)
            {
                _onExit(report);
            }
        }
    }

    /// <summary>With no child left: finishes when the init has exited (checked again under the lock, as spawns happen under it).</summary>
    private bool TryFinish()
    {
        lock (_lock)
        {
            if (!_initExited)
            {
                return false;
            }

            byte* info = stackalloc byte[Native.SigInfoSize];
            int rc;
            while ((rc = Native.waitid(Native.P_ALL, 0, info, Native.WEXITED | Native.WNOWAIT | Native.WNOHANG)) != 0 && Native.Errno == Native.EINTR)
            {
            }

            if (rc == 0 || Native.Errno != Native.ECHILD)
            {
                return false;
            }

            _closed = true;
        }

        _finished.TrySetResult();
        return true;
    }

    private static int Reap(int pid)
    {
        int status = 0;
        while (Native.waitpid(pid, &status, Native.WNOHANG) < 0 && Native.Errno == Native.EINTR)
        {
        }

        return status;
    }

    /// <summary>The pid inside the container: the last field of <c>NSpid:</c> in /proc/PID/status; 0 if unknown.</summary>
    public static int ReadNsPid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                {
                    string[] fields = line[6..].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    return fields.Length > 0 && int.TryParse(fields[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int ns) ? ns : 0;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        return 0;
    }
}

/// <summary>A container process the monitor reports (init or exec'd).</summary>
internal sealed class Tracked
{
    public int Pid { get; init; }

    public int NsPid { get; set; }

    public bool IsInit { get; set; }

    /// <summary>Set (under the reaper's lock) when the process has been reaped (its pid and status; <see cref="NsPid"/> and <see cref="Time"/> are kept here).</summary>
    public ProcessExit? Exit { get; set; }

    public DateTimeOffset Time { get; set; }
}
