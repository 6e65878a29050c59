// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Protocol;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>A system handle on hcsd.</summary>
internal sealed class RemoteSystemHandle(RemoteSession session, ulong number, string id) : RemoteHandle(session, number), ISystemHandle
{
    public string Id { get; } = id;

    protected override string SystemIdForErrors => Id;

    protected override uint? ProcessIdForErrors => null;

    protected override string SubscribeLabel => OperationLabels.SetSystemCallback;

    public Task WaitForCreatedAsync(CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.WaitForCreated, null, cancellationToken);

    public Task StartAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Start, options, cancellationToken);

    public Task ShutDownAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.ShutDown, options, cancellationToken);

    public Task TerminateAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Terminate, options, cancellationToken);

    public Task PauseAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Pause, options, cancellationToken);

    public Task ResumeAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Resume, options, cancellationToken);

    public Task SaveAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Save, options, cancellationToken);

    public Task CrashAsync(string? options, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Crash, options, cancellationToken);

    public Task ModifyAsync(string request, CancellationToken cancellationToken = default) => VerbAsync(SystemVerb.Modify, request, cancellationToken);

    public Task<string> GetPropertiesAsync(string? query, CancellationToken cancellationToken = default) =>
        VerbAsync(SystemVerb.GetProperties, query, cancellationToken);

    public Task<string> WaitForExitAsync(CancellationToken cancellationToken = default) =>
        VerbAsync(SystemVerb.WaitForExit, null, cancellationToken);

    public IAsyncEnumerable<HcsEventRecord> ReadEventsAsync(CancellationToken cancellationToken = default) => SubscribeEventsAsync(cancellationToken);

    public async Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken = default)
    {
        const string Label = OperationLabels.CreateProcess;
        ThrowIfNotOpen(Label);
        var request = new Request { CreateProcess = new CreateProcessRequest { SystemHandle = Number, Parameters = parameters ?? "" } };
        var reply = await Session.CallAsync(Label, Id, null, request, Reply.ResultOneofCase.Process, cancellationToken).ConfigureAwait(false);
        var handle = new RemoteProcessHandle(Session, reply.Process, Id);
        Session.Track(handle);
        await handle.AttachStdioAsync().ConfigureAwait(false);
        return handle;
    }

    public async Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken = default)
    {
        const string Label = OperationLabels.OpenProcess;
        ThrowIfNotOpen(Label);
        var request = new Request { OpenProcess = new OpenProcessRequest { SystemHandle = Number, ProcessId = processId } };
        var reply = await Session.CallAsync(Label, Id, processId, request, Reply.ResultOneofCase.Process, cancellationToken).ConfigureAwait(false);
        var handle = new RemoteProcessHandle(Session, reply.Process, Id);
        Session.Track(handle);
        return handle;
    }

    private Task<string> VerbAsync(SystemVerb verb, string? json, CancellationToken cancellationToken)
    {
        var call = new SystemCallRequest { Handle = Number, Verb = verb };
        if (json is not null)
        {
            call.Json = json;
        }

        return JsonCallAsync(WireVerbs.LabelOf(verb), new Request { SystemCall = call }, cancellationToken);
    }
}
