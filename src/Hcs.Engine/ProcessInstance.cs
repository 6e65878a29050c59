// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>
/// One process inside a system: its exit status (recorded exactly once), its handles, and <c>ProcessExited</c>
/// delivery to them (process handles only; never to system handles). A process whose system stops before it
/// exits ends with <c>LastWaitResult</c> set to the system's exit HRESULT (its exit code is then not valid).
/// </summary>
internal sealed class ProcessInstance : IBackendProcessSink
{
    private readonly SystemInstance _system;
    private readonly Lock _gate = new();
    private readonly List<ProcessHandle> _handles = []; // guarded by _gate
    private readonly TaskCompletionSource<ProcessStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IBackendProcess? _backend; // guarded by _gate
    private ProcessStatus? _status; // guarded by _gate
    private int _earlyExit = int.MinValue; // guarded by _gate: exit reported before the backend call returned

    public ProcessInstance(SystemInstance system)
    {
        _system = system;
    }

    public uint ProcessId { get; private set; }

    public string SystemId => _system.Id;

    public bool HasExited
    {
        get
        {
            lock (_gate)
            {
                return _status is not null;
            }
        }
    }

    /// <summary>Binds the backend process once its start returned; an exit reported meanwhile is applied now.</summary>
    public void Attach(IBackendProcess backend)
    {
        int early;
        lock (_gate)
        {
            _backend = backend;
            ProcessId = backend.ProcessId;
            early = _earlyExit;
        }

        if (early != int.MinValue)
        {
            Finish(new ProcessStatus { ProcessId = ProcessId, Exited = true, ExitCode = unchecked((uint)early), LastWaitResult = 0 });
        }
    }

    public ProcessHandle AddHandle(Session session, ProcessStdio? stdio)
    {
        var handle = new ProcessHandle(this, session, stdio);
        lock (_gate)
        {
            _handles.Add(handle);
        }

        return handle;
    }

    public void RemoveHandle(ProcessHandle handle)
    {
        bool forget;
        lock (_gate)
        {
            _handles.Remove(handle);
            forget = _handles.Count == 0 && _status is not null;
        }

        if (forget)
        {
            _system.ForgetProcess(this);
        }
    }

    public ChannelReader<HcsEventRecord> Subscribe(ProcessHandle handle)
    {
        lock (_gate)
        {
            var channel = handle.OpenEventChannel();
            if (_status is not null)
            {
                channel.Writer.TryWrite(new HcsEventRecord(HcsEventType.ProcessExited, HcsJson.Serialize(_status)));
            }

            return channel.Reader;
        }
    }

    void IBackendProcessSink.Exited(int exitCode)
    {
        if (_system.IsStopping)
        {
            // Killed by the system's stop: FinishStop ends it with the system's exit HRESULT.
            return;
        }

        lock (_gate)
        {
            if (_backend is null)
            {
                _earlyExit = exitCode;
                return;
            }
        }

        Finish(new ProcessStatus { ProcessId = ProcessId, Exited = true, ExitCode = unchecked((uint)exitCode), LastWaitResult = 0 });
    }

    /// <summary>The system stopped: a process still running ends with the system's exit HRESULT.</summary>
    public void OnSystemStopped(int hr) =>
        Finish(new ProcessStatus { ProcessId = ProcessId, Exited = true, ExitCode = 0, LastWaitResult = hr });

    private void Finish(ProcessStatus status)
    {
        IBackendProcess? backend;
        bool forget;
        lock (_gate)
        {
            if (_status is not null)
            {
                return;
            }

            _status = status;
            backend = _backend;
            forget = _handles.Count == 0;
            var record = new HcsEventRecord(HcsEventType.ProcessExited, HcsJson.Serialize(status));
            foreach (var handle in _handles)
            {
                handle.Deliver(record);
            }
        }

        _exited.TrySetResult(status);
        if (backend is not null)
        {
            _ = DisposeBackendAsync(backend);
        }

        if (forget)
        {
            _system.ForgetProcess(this);
        }
    }

    private static async Task DisposeBackendAsync(IBackendProcess backend)
    {
        try
        {
            await backend.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Releasing a finished process is best effort.
        }
    }

    public ProcessStatus Status()
    {
        lock (_gate)
        {
            return _status ?? new ProcessStatus { ProcessId = ProcessId, Exited = false };
        }
    }

    /// <summary>Completes with the exit status; fails with <c>HCS_E_SERVICE_DISCONNECT</c> when the service goes away first.</summary>
    public async Task<ProcessStatus> WaitForExitAsync(CancellationToken cancellationToken)
    {
        var done = await Task.WhenAny(_exited.Task, _system.ServiceDisconnected).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (done != _exited.Task && !_exited.Task.IsCompleted)
        {
            throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, OperationLabels.WaitForProcessExit, SystemId, ProcessId);
        }

        return await _exited.Task.ConfigureAwait(false);
    }

    public async Task SignalAsync(string? options, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.SignalProcess;
        var parsed = Parse<SignalProcessOptions>(options, Label)
            ?? throw HcsException.InvalidJson("$", "SignalProcessOptions are required", Label, SystemId);
        var signal = ToPosixSignal(parsed, Label);
        await RunAsync(Label, (b, ct) => b.SignalAsync(signal, ct), cancellationToken).ConfigureAwait(false);
    }

    public Task TerminateAsync(CancellationToken cancellationToken) =>
        RunAsync(OperationLabels.TerminateProcess, static (b, ct) => b.KillAsync(ct), cancellationToken);

    public async Task ModifyAsync(string request, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.ModifyProcess;
        var parsed = Parse<ProcessModifyRequest>(request, Label)
            ?? throw HcsException.InvalidJson("$", "a ProcessModifyRequest is required", Label, SystemId);
        switch (parsed.Operation)
        {
            case ModifyOperation.ConsoleSize when parsed.ConsoleSize is { } size:
                await RunAsync(Label, (b, ct) => b.ResizeConsoleAsync(size.Height, size.Width, ct), cancellationToken).ConfigureAwait(false);
                break;
            case ModifyOperation.CloseHandle when parsed.CloseHandle?.Handle is StdHandle.StdIn or StdHandle.All:
                await RunAsync(Label, static (b, ct) => b.CloseStdInAsync(ct), cancellationToken).ConfigureAwait(false);
                break;
            case ModifyOperation.CloseHandle:
                throw HcsException.InvalidJson("$.CloseHandle.Handle",
                    $"closing '{parsed.CloseHandle?.Handle}' is not supported: the host owns the output streams; close your end instead", Label, SystemId);
            default:
                throw HcsException.InvalidJson("$.Operation", "an operation (ConsoleSize or CloseHandle) with its settings is required", Label, SystemId);
        }
    }

    private async Task RunAsync(string label, Func<IBackendProcess, CancellationToken, Task> body, CancellationToken cancellationToken)
    {
        IBackendProcess backend;
        lock (_gate)
        {
            if (_status is not null || _backend is null)
            {
                throw new HcsException(HResults.HCS_E_PROCESS_ALREADY_STOPPED, label, SystemId, ProcessId);
            }

            backend = _backend;
        }

        try
        {
            await body(backend, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (HasExited)
        {
            // The process ended while the call was in flight: report it as already stopped.
            throw new HcsException(HResults.HCS_E_PROCESS_ALREADY_STOPPED, label, SystemId, ProcessId);
        }
        catch (Exception e) when (e is not HcsException)
        {
            throw HcsException.Wrap(e, label, SystemId, ProcessId);
        }
    }

    /// <summary>
    /// Maps <c>SignalProcessOptions.Signal</c> (a POSIX number, or a ProcessSignal name: CtrlC → SIGINT, CtrlBreak →
    /// SIGQUIT, CtrlClose/CtrlLogOff → SIGHUP, CtrlShutdown → SIGTERM) to a POSIX signal. The schema has already checked it.
    /// </summary>
    internal static int ToPosixSignal(SignalProcessOptions options, string label)
    {
        if (options.TryGetPosixSignal(out var number))
        {
            return number;
        }

        return options.TryGetNamedSignal(out var named)
            ? named switch
            {
                ProcessSignal.CtrlC => 2,
                ProcessSignal.CtrlBreak => 3,
                ProcessSignal.CtrlClose or ProcessSignal.CtrlLogOff => 1,
                _ => 15,
            }
            : throw HcsException.InvalidJson("$.Signal", "expected a ProcessSignal name or a POSIX signal number 1-64", label);
    }

    private T? Parse<T>(string? json, string label) where T : class
    {
        try
        {
            return HcsJson.DeserializeOptional<T>(json);
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, label, SystemId, ProcessId, e.Result, e);
        }
    }
}
