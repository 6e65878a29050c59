// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Contracts;

/// <summary>An event as it crosses the service boundary: its <c>HCS_EVENT_TYPE</c> and optional JSON EventData.</summary>
/// <param name="Type">The event type.</param>
/// <param name="EventData">JSON payload (e.g. <c>SystemExitStatus</c>), or null.</param>
public sealed record HcsEventRecord(HcsEventType Type, string? EventData);
