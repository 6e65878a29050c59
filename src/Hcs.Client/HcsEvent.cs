// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Client;

/// <summary>An <c>HCS_EVENT</c> delivered to a handle's callback.</summary>
/// <param name="Type">What happened.</param>
/// <param name="EventData">JSON payload (e.g. <c>SystemExitStatus</c> for <see cref="HcsEventType.SystemExited"/>), or null.</param>
/// <param name="Operation">The completed operation, only for <see cref="HcsEventType.OperationCallback"/>.</param>
public sealed record HcsEvent(HcsEventType Type, string? EventData, HcsOperation? Operation = null);

/// <summary>Event callback of a system or process handle (<c>HCS_EVENT_CALLBACK</c>).</summary>
/// <param name="event">The event.</param>
/// <param name="context">The context given at registration.</param>
public delegate void HcsEventCallback(HcsEvent @event, object? context);
