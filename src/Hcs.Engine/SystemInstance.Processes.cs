// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Engine;

internal sealed partial class SystemInstance
{
    public async Task<IProcessHandle> CreateProcessAsync(string parameters, CancellationToken cancellationToken)
    {
        const string Label = "ComputeProcess.Create";
        _ = Parse<ProcessParameters>(parameters, Label)
            ?? throw HcsException.InvalidJson("$", "ProcessParameters are required", Label, Id);
        await WaitConstructedAsync(Label, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            var hr = StateMachine.Check(SystemVerb.CreateProcess, _phase, _terminating is not null);
            if (hr < 0)
            {
                throw new HcsException(hr, Label, Id);
            }
        }

        throw new HcsException(HResults.ERROR_NOT_SUPPORTED, Label, Id,
            result: ResultError.From(HResults.ERROR_NOT_SUPPORTED, $"the {_backendKind.Name} backend does not run processes"));
    }

    public Task<IProcessHandle> OpenProcessAsync(uint processId, CancellationToken cancellationToken) =>
        Task.FromException<IProcessHandle>(new HcsException(HResults.ERROR_NOT_FOUND, "ComputeProcess.Open", Id, processId));
}
