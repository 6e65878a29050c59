// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Engine;

/// <summary>Settings of a <see cref="ComputeEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>
    /// How long <c>ShutDown</c> waits for the guest to stop before failing with <c>ERROR_TIMEOUT</c> and leaving the
    /// system running. hcsshim's lifecycle timeouts default to 4 minutes; so does this.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromMinutes(4);

    /// <summary>The clock; tests inject a fake one.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Name reported for the service in logs.</summary>
    public string ServiceName { get; init; } = "hcs";
}
