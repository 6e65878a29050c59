// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Conformance;

/// <summary>The verbs of the operation × state matrix (hcs-api.md §7.3).</summary>
public enum MatrixVerb
{
    /// <summary>Start.</summary>
    Start,
    /// <summary>ShutDown.</summary>
    ShutDown,
    /// <summary>Terminate.</summary>
    Terminate,
    /// <summary>Pause.</summary>
    Pause,
    /// <summary>Resume.</summary>
    Resume,
    /// <summary>Save (to a file).</summary>
    Save,
    /// <summary>Crash.</summary>
    Crash,
    /// <summary>Modify (memory size).</summary>
    Modify,
    /// <summary>GetProperties.</summary>
    GetProperties,
    /// <summary>CreateProcess.</summary>
    CreateProcess,
}

/// <summary>
/// Every cell of the operation × state matrix, by driving a real system into each state and calling each verb.
/// The expected outcome is written out here from the specification (hcs-api.md §7.3 and the StateMachine remarks),
/// not taken from the engine, so the test can disagree with it. Stopped is reached three ways (terminated, powered
/// off by the guest, worker died) because the answer must not depend on how the system stopped.
/// </summary>
public abstract class StateMatrixConformance(IBackendFixture fixture) : ConformanceTestBase(fixture)
{
    /// <summary>Marks a cell whose call succeeds.</summary>
    private const int Ok = HResults.S_OK;

    /// <summary>Marks the CreateProcess cell of Running: valid in this state, even while processes are not implemented.</summary>
    private const int NotInvalidState = 1;

    /// <summary>Every (state, verb) pair.</summary>
    public static TheoryData<Prepared, MatrixVerb> Cells
    {
        get
        {
            var data = new TheoryData<Prepared, MatrixVerb>();
            foreach (var state in Enum.GetValues<Prepared>())
            {
                foreach (var verb in Enum.GetValues<MatrixVerb>())
                {
                    data.Add(state, verb);
                }
            }

            return data;
        }
    }

    /// <summary>The specified outcome of <paramref name="verb"/> in <paramref name="state"/>.</summary>
    public static int Expected(Prepared state, MatrixVerb verb)
    {
        const int Invalid = HResults.HCS_E_INVALID_STATE;
        const int AlreadyStopped = HResults.HCS_E_SYSTEM_ALREADY_STOPPED;
        return StateOf(state) switch
        {
            SystemState.Created => verb switch
            {
                MatrixVerb.Start or MatrixVerb.ShutDown or MatrixVerb.Terminate or MatrixVerb.Modify or MatrixVerb.GetProperties => Ok,
                _ => Invalid,
            },
            SystemState.Running => verb switch
            {
                MatrixVerb.Start or MatrixVerb.Resume or MatrixVerb.Save => Invalid,
                MatrixVerb.CreateProcess => NotInvalidState,
                _ => Ok,
            },
            SystemState.Paused => verb switch
            {
                MatrixVerb.ShutDown or MatrixVerb.Terminate or MatrixVerb.Resume or MatrixVerb.Save or MatrixVerb.Modify or MatrixVerb.GetProperties => Ok,
                _ => Invalid,
            },
            _ => verb switch
            {
                MatrixVerb.ShutDown or MatrixVerb.Terminate => AlreadyStopped,
                MatrixVerb.GetProperties => Ok,
                _ => Invalid,
            },
        };
    }

    [Theory]
    [MemberData(nameof(Cells), MemberType = typeof(StateMatrixConformance))]
    public async Task Verb_InEachState_SucceedsOrFailsAsTheMatrixSays(Prepared state, MatrixVerb verb)
    {
        if (Expected(state, verb) == Ok)
        {
            // Cells where the verb is valid but its effect needs what the backend lacks (a container has no guest
            // kernel to crash, and no checkpoint to save): the outcome cannot be observed there.
            if (verb == MatrixVerb.Crash)
            {
                RequireGuestKernel();
            }
            else if (verb == MatrixVerb.Save)
            {
                RequireSave();
            }
        }

        var system = await PrepareAsync(state);
        var before = StateOf(state);
        await AssertStateAsync(before, system);
        var expected = Expected(state, verb);

        if (expected == NotInvalidState)
        {
            await AssertNotRejectedForStateAsync(system);
            return;
        }

        if (expected != Ok)
        {
            await AssertFailsAsync(expected, () => InvokeAsync(system, verb));
            await AssertStateAsync(before, system); // a rejected call changes nothing
            return;
        }

        if (verb == MatrixVerb.ShutDown && before == SystemState.Paused)
        {
            // A paused guest cannot act on the request until it runs again: ShutDown is accepted and completes once resumed.
            var shutdown = system.ShutDownAsync();
            try
            {
                await Within(system.ResumeAsync());
            }
            catch (HcsException e) when (e.HResult == HResults.HCS_E_SYSTEM_ALREADY_STOPPED)
            {
                // A real guest may act on the pending request the moment it is thawed, so its exit can be reported
                // before the Resume call's own outcome: the Resume then reports the stop. Either way it ran again.
            }

            await Within(shutdown);
        }
        else
        {
            await Within(InvokeAsync(system, verb));
        }

        await AssertOutcomeAsync(system, before, verb);
    }

    private async Task AssertOutcomeAsync(ComputeSystem system, SystemState before, MatrixVerb verb)
    {
        switch (verb)
        {
            case MatrixVerb.Start or MatrixVerb.Resume:
                await AssertStateAsync(SystemState.Running, system);
                break;
            case MatrixVerb.Pause:
                await AssertStateAsync(SystemState.Paused, system);
                break;
            case MatrixVerb.ShutDown:
                await AssertStoppedAsync(system, NotificationType.GracefulExit);
                break;
            case MatrixVerb.Terminate:
                await AssertStoppedAsync(system, NotificationType.ForcedExit);
                break;
            case MatrixVerb.Crash:
                await AssertStoppedAsync(system, NotificationType.UnexpectedExit);
                break;
            case MatrixVerb.Save:
                await AssertStateAsync(SystemState.Paused, system);
                Assert.True(File.Exists(SavePath(system)), "Save wrote the state file");
                break;
            default: // Modify, GetProperties: no transition
                await AssertStateAsync(before, system);
                break;
        }
    }

    private async Task AssertStoppedAsync(ComputeSystem system, NotificationType exitType)
    {
        var exit = await Within(system.WaitForExitAsync());
        Assert.Equal(exitType, exit.ExitType);
        var properties = await Within(system.GetPropertiesAsync());
        Assert.Equal(SystemState.Stopped, properties.State);
        Assert.True(properties.Stopped);
        Assert.Equal(exitType, properties.ExitType);
    }

    private async Task AssertNotRejectedForStateAsync(ComputeSystem system)
    {
        await using var raw = await OpenRawAsync(system.Id);
        try
        {
            var process = await Within(raw.CreateProcessAsync(ProcessParametersJson));
            await process.DisposeAsync();
        }
        catch (HcsException e)
        {
            Assert.True(e.HResult != HResults.HCS_E_INVALID_STATE, $"CreateProcess is valid while Running, but failed with {e.HResultName}: {e.Message}");
        }

        await AssertStateAsync(SystemState.Running, system);
    }

    private Task InvokeAsync(ComputeSystem system, MatrixVerb verb) => verb switch
    {
        MatrixVerb.Start => system.StartAsync(),
        MatrixVerb.ShutDown => system.ShutDownAsync(),
        MatrixVerb.Terminate => system.TerminateAsync(),
        MatrixVerb.Pause => system.PauseAsync(),
        MatrixVerb.Resume => system.ResumeAsync(),
        MatrixVerb.Save => system.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = SavePath(system) }),
        MatrixVerb.Crash => system.CrashAsync(),
        MatrixVerb.Modify => system.ModifyAsync(MemoryUpdate()),
        MatrixVerb.GetProperties => system.GetPropertiesAsync(),
        MatrixVerb.CreateProcess => CreateProcessAsync(system),
        _ => throw new ArgumentOutOfRangeException(nameof(verb)),
    };

    private async Task CreateProcessAsync(ComputeSystem system)
    {
        await using var raw = await OpenRawAsync(system.Id);
        var process = await raw.CreateProcessAsync(ProcessParametersJson);
        await process.DisposeAsync();
    }

    private string SavePath(ComputeSystem system) => Path.Combine(Fixture.TempDirectory, system.Id + ".vmrs");
}
