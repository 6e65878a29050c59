// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Hcs.Contracts;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>A handle to a process. Closing it never kills the process.</summary>
internal sealed class ProcessHandle : HandleBase, IProcessHandle
{
    private readonly ProcessInstance _process;
    private readonly Session _session;

    public ProcessHandle(ProcessInstance process, Session session, ProcessStdio? stdio)
    {
        _process = process;
        _session = session;
        Stdio = stdio;
    }

    public uint ProcessId => _process.ProcessId;

    public ProcessStdio? Stdio { get; }

    protected override string SystemId => _process.SystemId;

    protected override HostCaller? Caller => _session.Caller;

    protected override uint? ProcessIdForErrors => _process.ProcessId;

    protected override string SubscribeLabel => OperationLabels.SetProcessCallback;

    public Task SignalAsync(string? options, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.SignalProcess, () => _process.SignalAsync(options, cancellationToken));

    public Task TerminateAsync(CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.TerminateProcess, () => _process.TerminateAsync(cancellationToken));

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.GetProcessProperties, () => Task.FromResult(HcsJson.Serialize(_process.Status())));

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) =>
        CallAsync(OperationLabels.ModifyProcess, () => _process.ModifyAsync(request, cancellationToken));

    public async Task<string> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync(OperationLabels.WaitForProcessExit, () => _process.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
        return HcsJson.Serialize(status);
    }

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfNotOpen(OperationLabels.SetProcessCallback);
        return ReadAllAsync(_process.Subscribe(this), cancellationToken);
    }

    public override ValueTask DisposeAsync()
    {
        if (TryClose())
        {
            _session.Untrack(this);
            _process.RemoveHandle(this);
        }

        return ValueTask.CompletedTask;
    }
}
