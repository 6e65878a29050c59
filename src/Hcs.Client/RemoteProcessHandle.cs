// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// A process handle on hcsd: its verbs travel on the session stream; a created process's stdio, if it has any, runs
/// over its own <see cref="RemoteStdio"/> transport.
/// </summary>
internal sealed class RemoteProcessHandle : RemoteHandle, IProcessHandle
{
    private readonly string _systemId;
    private readonly RemoteStdio? _stdio;

    public RemoteProcessHandle(RemoteSession session, ProcessReply reply, string systemId)
        : base(session, reply.Handle)
    {
        _systemId = systemId;
        ProcessId = reply.ProcessId;
        if (reply.HasStdin || reply.HasStdout || reply.HasStderr)
        {
            _stdio = new RemoteStdio(session, reply.Handle, reply.HasStdin, reply.HasStdout, reply.HasStderr);
        }
    }

    public uint ProcessId { get; }

    public ProcessStdio? Stdio => _stdio?.Streams;

    protected override string SystemIdForErrors => _systemId;

    protected override uint? ProcessIdForErrors => ProcessId;

    protected override string SubscribeLabel => OperationLabels.SetProcessCallback;

    public Task SignalAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(ProcessVerb.Signal, options, cancellationToken);

    public Task TerminateAsync(CancellationToken cancellationToken = default) => VerbAsync(ProcessVerb.ProcessTerminate, null, cancellationToken);

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        VerbAsync(ProcessVerb.ProcessGetProperties, query, cancellationToken);

    public async Task ModifyAsync(string request, CancellationToken cancellationToken = default)
    {
        if (_stdio is { HasStdin: true } && request is not null && ClosesStdIn(request))
        {
            // What was written to stdin travels on the stdio stream, this request on the session stream: first wait
            // until hcsd says the process has every byte written so far, so the close cannot overtake them (in process,
            // a write that returned is in the pipe).
            try
            {
                await _stdio.SyncStdinAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw new HcsException(HResults.ERROR_CANCELLED, OperationLabels.ModifyProcess, _systemId, ProcessId);
            }
        }

        await VerbAsync(ProcessVerb.ProcessModify, request, cancellationToken).ConfigureAwait(false);
    }

    public Task<string> WaitForExitAsync(CancellationToken cancellationToken = default) =>
        VerbAsync(ProcessVerb.ProcessWaitForExit, null, cancellationToken);

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default) => SubscribeEventsAsync(cancellationToken);

    /// <summary>Opens the stdio stream of a created process that has stdio (see <see cref="RemoteStdio.AttachAsync"/>).</summary>
    internal Task AttachStdioAsync() => _stdio?.AttachAsync() ?? Task.CompletedTask;

    private Task<string> VerbAsync(ProcessVerb verb, string? json, CancellationToken cancellationToken)
    {
        var call = new ProcessCallRequest { Handle = Number, Verb = verb };
        if (json is not null)
        {
            call.Json = json;
        }

        return JsonCallAsync(WireVerbs.LabelOf(verb), new Request { ProcessCall = call }, cancellationToken);
    }

    /// <summary>True when <paramref name="request"/> is a ProcessModifyRequest that closes stdin (a malformed one goes to hcsd, which says why).</summary>
    private static bool ClosesStdIn(string request)
    {
        try
        {
            return HcsJson.Deserialize<ProcessModifyRequest>(request) is { Operation: ModifyOperation.CloseHandle, CloseHandle.Handle: StdHandle.StdIn or StdHandle.All };
        }
        catch (HcsException)
        {
            return false;
        }
    }
}
