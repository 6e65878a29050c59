// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Hcs.Engine.Tests;

/// <summary>
/// The fake-backend fixture whose engine a test may put on a fake clock (<see cref="UseFakeClock"/>): scripted delays,
/// guest timers and the shutdown timeout then fire when the test advances the clock, never because a real timer ran
/// early or late on a busy machine.
/// </summary>
public sealed class FakeClockFixture : FakeBackendFixture
{
    /// <summary>The fake clock, once <see cref="UseFakeClock"/> was called.</summary>
    public FakeTimeProvider? Clock { get; private set; }

    /// <inheritdoc />
    protected override TimeProvider Time => Clock ?? TimeProvider.System;

    /// <summary>Runs the engine on a fake clock that moves only when the test advances it; call before the service is first used.</summary>
    public FakeTimeProvider UseFakeClock()
    {
        if (Clock is not null)
        {
            return Clock;
        }

        Clock = new FakeTimeProvider();
        if (!ReferenceEquals(Engine.Options.Time, Clock))
        {
            throw new InvalidOperationException("the engine was created on the system clock before UseFakeClock");
        }

        return Clock;
    }

    /// <summary>
    /// Advances <see cref="Clock"/> by <paramref name="step"/> at a time until <paramref name="task"/> completes (bounded by
    /// <see cref="Conformance.BackendFixture.Timeout"/> of real time, as a safety net).
    /// </summary>
    public async Task AdvanceUntilDoneAsync(Task task, TimeSpan step)
    {
        var clock = Clock ?? throw new InvalidOperationException("the engine does not run on a fake clock");
        var bound = Stopwatch.StartNew();
        while (!task.IsCompleted)
        {
            if (bound.Elapsed > Timeout)
            {
                throw new TimeoutException($"the call did not complete within {Timeout} of real time while the fake clock advanced");
            }

            clock.Advance(step);
            await Task.WhenAny(task, Task.Delay(1));
        }
    }
}
