// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;

namespace Hcs.TestKit;

/// <summary>A process's exit, as the engine would receive it.</summary>
public sealed class ProcessSink : IBackendProcessSink
{
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the exit code.</summary>
    public Task<int> Exited => _exited.Task;

    void IBackendProcessSink.Exited(int exitCode) => _exited.TrySetResult(exitCode);
}
