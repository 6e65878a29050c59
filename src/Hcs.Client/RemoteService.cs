// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>The compute service of an <c>hcsd</c> reached over its Unix socket (gRPC).</summary>
internal static class RemoteService
{
    public static IComputeService Connect(string socket) =>
        throw new HcsException(HResults.HCS_E_SERVICE_DISCONNECT, "Service.Connect", result: ResultError.From(HResults.HCS_E_SERVICE_DISCONNECT, $"hcsd is not reachable at {socket}"));
}
