// Copyright (c) hcs contributors. Licensed under the MIT licence.

using CsCheck;
using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>
/// Model-based property test: random sequences of verbs, handle operations and guest actions run against the engine
/// on the fake backend and against a small model of the HCS state machine (hcs-api.md §7.3). Every call's HRESULT,
/// every state and the exit type must agree with the model, and every subscribed handle must get SystemExited exactly
/// once, as its last system event. The engine runs on a fake clock: the shutdown timeout fires only when the model
/// expects it (a paused guest cannot act on the request) and the test advances the clock, never because a busy machine
/// delayed a guest that was about to power off.
/// </summary>
public sealed class StateMachinePropertyTests
{
    private enum Op
    {
        Start, ShutDown, Terminate, Pause, Resume, Save, Crash, Modify, GetProperties,
        OpenHandle, CloseHandle, Subscribe, GuestPowerOff, KillWorker, GuestPanic, GuestReset,
    }

    private static readonly Gen<(bool StopOnReset, Op[] Ops)> s_sequences =
        Gen.Select(Gen.Bool, Gen.Enum<Op>().Array[1, 24]);

    [Fact]
    public async Task RandomOperationSequences_AgreeWithTheStateMachineModel()
    {
        await s_sequences.SampleAsync(
            async sample => await RunSequenceAsync(sample.StopOnReset, sample.Ops),
            iter: 1000,
            threads: 1,
            print: s => $"StopOnReset={s.StopOnReset} [{string.Join(", ", s.Ops)}]");
    }

    private static async Task RunSequenceAsync(bool stopOnReset, Op[] ops)
    {
        var fake = new FakeBackend();
        var clock = new FakeTimeProvider();
        await using var engine = new ComputeEngine([fake], new EngineOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(30), Time = clock });
        await using var session = engine.OpenSession(new ClientIdentity("property"));
        var model = new Model();
        var saveDir = Directory.CreateTempSubdirectory("hcs-prop-");
        try
        {
            var primary = await session.CreateSystemAsync("prop", Document(stopOnReset));
            await primary.WaitForCreatedAsync();
            var handles = new List<ISystemHandle> { primary };
            var subscriptions = new Dictionary<ISystemHandle, Task<List<HcsEventRecord>>>();
            var closedBeforeStop = new HashSet<ISystemHandle>();
            var step = 0;
            foreach (var op in ops)
            {
                step++;
                var where = $"step {step} ({op}) in {model.Phase}";
                switch (op)
                {
                    case Op.Start:
                        Expect(await HrOf(primary.StartAsync(null)), model.Phase == SystemState.Created ? 0 : HResults.HCS_E_INVALID_STATE, where);
                        if (model.Phase == SystemState.Created)
                        {
                            model.Phase = SystemState.Running;
                        }

                        break;
                    case Op.ShutDown:
                        {
                            var expected = model.Phase switch
                            {
                                SystemState.Stopped => HResults.HCS_E_SYSTEM_ALREADY_STOPPED,
                                SystemState.Paused => HResults.ERROR_TIMEOUT, // a paused guest cannot act on the request
                                _ => 0,
                            };
                            var shutdown = primary.ShutDownAsync(null);
                            if (model.Phase == SystemState.Paused)
                            {
                                await AdvanceUntilDoneAsync(clock, shutdown); // only the timeout can end it
                            }

                            Expect(await HrOf(shutdown), expected, where);
                            if (model.Phase == SystemState.Paused)
                            {
                                model.PowerOffOnResume = true;
                            }
                            else if (model.Phase != SystemState.Stopped)
                            {
                                model.Stop(NotificationType.GracefulExit);
                            }

                            break;
                        }

                    case Op.Terminate:
                        Expect(await HrOf(primary.TerminateAsync(null)),
                            model.Phase == SystemState.Stopped ? HResults.HCS_E_SYSTEM_ALREADY_STOPPED : 0, where);
                        model.Stop(NotificationType.ForcedExit);
                        break;
                    case Op.Pause:
                        Expect(await HrOf(primary.PauseAsync(null)), model.Phase == SystemState.Running ? 0 : HResults.HCS_E_INVALID_STATE, where);
                        if (model.Phase == SystemState.Running)
                        {
                            model.Phase = SystemState.Paused;
                        }

                        break;
                    case Op.Resume:
                        Expect(await HrOf(primary.ResumeAsync(null)), model.Phase == SystemState.Paused ? 0 : HResults.HCS_E_INVALID_STATE, where);
                        if (model.Phase == SystemState.Paused)
                        {
                            model.Phase = SystemState.Running;
                            if (model.PowerOffOnResume)
                            {
                                // The shutdown request that timed out while paused is acted on now, by the guest.
                                await primary.WaitForExitAsync();
                                model.Stop(NotificationType.GracefulExit);
                            }
                        }

                        break;
                    case Op.Save:
                        {
                            var options = HcsJson.Serialize(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = Path.Combine(saveDir.FullName, $"s{step}.vmrs") });
                            Expect(await HrOf(primary.SaveAsync(options)), model.Phase == SystemState.Paused ? 0 : HResults.HCS_E_INVALID_STATE, where);
                            break;
                        }

                    case Op.Crash:
                        Expect(await HrOf(primary.CrashAsync(null)), model.Phase == SystemState.Running ? 0 : HResults.HCS_E_INVALID_STATE, where);
                        if (model.Phase == SystemState.Running)
                        {
                            await primary.WaitForExitAsync();
                            model.Stop(NotificationType.UnexpectedExit);
                        }

                        break;
                    case Op.Modify:
                        Expect(await HrOf(primary.ModifyAsync("""{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Settings":512}""")),
                            model.Phase == SystemState.Stopped ? HResults.HCS_E_INVALID_STATE : 0, where);
                        break;
                    case Op.GetProperties:
                        {
                            var json = await primary.GetPropertiesAsync(null);
                            var properties = HcsJson.Deserialize<Properties>(json);
                            Assert.True(model.Phase == properties.State, $"{where}: state {properties.State}, model {model.Phase}");
                            Assert.Equal(model.Phase == SystemState.Stopped, properties.Stopped);
                            break;
                        }

                    case Op.OpenHandle:
                        handles.Add(await session.OpenSystemAsync("prop"));
                        break;
                    case Op.CloseHandle:
                        if (handles.Count > 1)
                        {
                            var last = handles[^1];
                            handles.RemoveAt(handles.Count - 1);
                            await last.DisposeAsync();
                            if (model.Phase != SystemState.Stopped)
                            {
                                closedBeforeStop.Add(last);
                            }
                        }

                        break;
                    case Op.Subscribe:
                        {
                            var target = handles[step % handles.Count];
                            if (subscriptions.ContainsKey(target))
                            {
                                Expect(HrOfSync(() => target.ReadEventsAsync()), HResults.HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, where);
                            }
                            else
                            {
                                subscriptions[target] = Collect(target.ReadEventsAsync());
                            }

                            break;
                        }

                    case Op.GuestPowerOff when model.Phase == SystemState.Running:
                        fake.Get("prop").PowerOff();
                        model.Stop(NotificationType.GracefulExit);
                        break;
                    case Op.KillWorker when model.Phase != SystemState.Stopped:
                        fake.Get("prop").KillWorker();
                        model.Stop(NotificationType.UnexpectedExit);
                        break;
                    case Op.GuestPanic when model.Phase == SystemState.Running:
                        fake.Get("prop").Panic("Kernel panic - not syncing: property test");
                        model.Stop(NotificationType.UnexpectedExit);
                        break;
                    case Op.GuestReset when model.Phase == SystemState.Running:
                        fake.Get("prop").Reset();
                        if (stopOnReset)
                        {
                            await primary.WaitForExitAsync();
                            model.Stop(NotificationType.UnexpectedExit);
                        }

                        break;
                }
            }

            if (model.Phase != SystemState.Stopped)
            {
                await primary.TerminateAsync(null);
                model.Stop(NotificationType.ForcedExit);
            }

            var exit = HcsJson.Deserialize<SystemExitStatus>(await primary.WaitForExitAsync());
            Assert.True(model.ExitType == exit.ExitType, $"exit type {exit.ExitType}, model {model.ExitType}");

            // A handle subscribing after the stop still gets SystemExited exactly once.
            var late = await session.OpenSystemAsync("prop");
            handles.Add(late);
            subscriptions[late] = Collect(late.ReadEventsAsync());

            foreach (var handle in handles)
            {
                await handle.DisposeAsync();
            }

            foreach (var (handle, collected) in subscriptions)
            {
                var events = await collected.WaitAsync(TimeSpan.FromSeconds(10));
                var systemEvents = events.Where(e => (uint)e.Type < 0x10000).ToList();
                if (closedBeforeStop.Contains(handle))
                {
                    // Closing a handle ends its stream; it never sees the later exit.
                    Assert.DoesNotContain(systemEvents, e => e.Type == HcsEventType.SystemExited);
                    continue;
                }

                Assert.Single(systemEvents, e => e.Type == HcsEventType.SystemExited);
                Assert.Equal(HcsEventType.SystemExited, systemEvents[^1].Type);
                Assert.DoesNotContain(events, e => e.Type is HcsEventType.ProcessExited or HcsEventType.OperationCallback);
            }

            Assert.Equal(0, engine.SystemCount);
        }
        finally
        {
            saveDir.Delete(recursive: true);
        }
    }

    private static string Document(bool stopOnReset) => HcsJson.Serialize(new ComputeSystem
    {
        SchemaVersion = new Schema.Version { Major = 2, Minor = 2 },
        Owner = "property",
        VirtualMachine = new VirtualMachine
        {
            StopOnReset = stopOnReset,
            Chipset = new Chipset { LinuxKernelDirect = new LinuxKernelDirect { KernelFilePath = "/vmlinuz", KernelCmdLine = "hcstest=idle" } },
            ComputeTopology = new Topology { Memory = new VirtualMachineMemory { SizeInMB = 256 }, Processor = new VirtualMachineProcessor { Count = 1 } },
        },
    });

    /// <summary>Advances <paramref name="clock"/> until <paramref name="call"/> completes (bounded by real time as a safety net).</summary>
    private static async Task AdvanceUntilDoneAsync(FakeTimeProvider clock, Task call)
    {
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (!call.IsCompleted && bound.Elapsed < TimeSpan.FromSeconds(10))
        {
            clock.Advance(TimeSpan.FromMilliseconds(10));
            await Task.WhenAny(call, Task.Delay(1));
        }
    }

    private static async Task<List<HcsEventRecord>> Collect(IAsyncEnumerable<HcsEventRecord> events)
    {
        var list = new List<HcsEventRecord>();
        await foreach (var e in events)
        {
            list.Add(e);
        }

        return list;
    }

    private static async Task<int> HrOf(Task call)
    {
        try
        {
            await call;
            return 0;
        }
        catch (HcsException e)
        {
            return e.HResult;
        }
    }

    private static int HrOfSync(Action call)
    {
        try
        {
            call();
            return 0;
        }
        catch (HcsException e)
        {
            return e.HResult;
        }
    }

    private static void Expect(int actual, int expected, string where) =>
        Assert.True(actual == expected, $"{where}: got {HResults.NameOf(actual)}, model expects {HResults.NameOf(expected)}");

    private sealed class Model
    {
        public SystemState Phase { get; set; } = SystemState.Created;

        public NotificationType? ExitType { get; private set; }

        public bool PowerOffOnResume { get; set; }

        public void Stop(NotificationType exitType)
        {
            if (Phase != SystemState.Stopped)
            {
                Phase = SystemState.Stopped;
                ExitType = exitType;
            }
        }
    }
}
