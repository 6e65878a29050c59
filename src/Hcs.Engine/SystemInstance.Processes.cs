// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

internal sealed partial class SystemInstance
{
    private readonly Dictionary<uint, ProcessInstance> _processes = []; // guarded by _gate

    /// <summary>
    /// Starts a process (not a lifecycle verb: processes may start concurrently, but only while Running).
    /// Backends without <see cref="IBackendProcessHost"/> answer <c>ERROR_NOT_SUPPORTED</c>.
    /// </summary>
    public async Task<IProcessHandle> CreateProcessAsync(Session session, string parameters, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.CreateProcess;
        var parsed = Parse<ProcessParameters>(parameters, Label)
            ?? throw HcsException.InvalidJson("$", "ProcessParameters are required", Label, Id);
        await WaitConstructedAsync(Label, cancellationToken).ConfigureAwait(false);
        IBackendSystem backend;
        lock (_gate)
        {
            var hr = StateMachine.Check(SystemVerb.CreateProcess, _phase, _terminating is not null);
            if (hr < 0)
            {
                throw new HcsException(hr, Label, Id);
            }

            backend = _backend!;
        }

        if (backend is not IBackendProcessHost host)
        {
            throw new HcsException(HResults.ERROR_NOT_SUPPORTED, Label, Id,
                result: ResultError.From(HResults.ERROR_NOT_SUPPORTED, $"the {_backendKind.Name} backend does not run processes"));
        }

        var process = new ProcessInstance(this);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token, _engine.DisconnectToken);
        var start = host.CreateProcessAsync(parsed, process, linked.Token);
        if (await Task.WhenAny(start, _stoppedOrDisconnected).ConfigureAwait(false) != start)
        {
            _ = start.ContinueWith(static t => t.Result.DisposeAsync().AsTask(), CancellationToken.None,
                TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw PendingFailure(SystemVerb.CreateProcess, Label);
        }

        IBackendProcess started;
        try
        {
            started = await start.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw CancelledOrStopped(SystemVerb.CreateProcess, Label, cancellationToken);
        }
        catch (Exception e) when (e is not HcsException)
        {
            throw HcsException.Wrap(e, Label, Id);
        }

        var stopped = false;
        lock (_gate)
        {
            if (_phase == SystemPhase.Stopped)
            {
                stopped = true;
            }
            else
            {
                _processes[started.ProcessId] = process;
            }
        }

        var handle = process.AddHandle(session, started.Stdio);
        process.Attach(started);
        if (stopped)
        {
            process.OnSystemStopped(PendingFailure(SystemVerb.CreateProcess, Label).HResult);
        }

        return session.Track(handle);
    }

    public Task<IProcessHandle> OpenProcessAsync(Session session, uint processId, CancellationToken cancellationToken)
    {
        ProcessInstance? process;
        lock (_gate)
        {
            _processes.TryGetValue(processId, out process);
        }

        if (process is null)
        {
            throw new HcsException(HResults.ERROR_NOT_FOUND, OperationLabels.OpenProcess, Id, processId);
        }

        return Task.FromResult<IProcessHandle>(session.Track(process.AddHandle(session, null)));
    }

    /// <summary>Drops an exited process with no open handle from the pid table.</summary>
    internal void ForgetProcess(ProcessInstance process)
    {
        lock (_gate)
        {
            if (_processes.TryGetValue(process.ProcessId, out var current) && ReferenceEquals(current, process))
            {
                _processes.Remove(process.ProcessId);
            }
        }
    }

    /// <summary>Ends every process still running when the system stops.</summary>
    private void StopProcesses(SystemExitStatus exit)
    {
        ProcessInstance[] processes;
        lock (_gate)
        {
            processes = [.. _processes.Values];
        }

        var hr = ExitStatuses.PendingCallFailure(exit, null);
        foreach (var process in processes)
        {
            process.OnSystemStopped(hr);
        }
    }
}
