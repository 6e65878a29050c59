// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Engine;

/// <summary>A handle a session owns: closed with the session, disconnected with the service.</summary>
internal interface ISessionHandle : IAsyncDisposable
{
    /// <summary>The service went away: end the event stream with ServiceDisconnect; later calls fail with HCS_E_SERVICE_DISCONNECT.</summary>
    void OnServiceDisconnected();
}
