// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using EventCallbackSample;
using Hcs.Backends.Fake;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

// The demo: runs the seed sample, then drives the system through its life so each callback fires, printing every
// event with its EventData. Until the QEMU backend lands (issue 3) it runs on the in-memory fake backend.
Console.WriteLine("hcs demo: the seed event-callback sample");
Console.WriteLine("backend: FAKE (in-memory test backend; real QEMU VMs arrive with the QEMU backend)");
var clock = Stopwatch.StartNew();
var fake = new FakeBackend();
await using var engine = new ComputeEngine([fake]);
using var client = HcsClient.Connect(engine, "EventCallbackSample");
using var scope = HcsClient.Use(client);

var assertions = new List<string>();
var exited = new ManualResetEventSlim();
void Print(HcsEvent ev)
{
    Console.WriteLine($"  [{clock.Elapsed.TotalMilliseconds,8:0.0} ms] event {ev.Type} (0x{(uint)ev.Type:X8}) EventData={ev.EventData ?? "null"}");
    if (ev.Type == HcsEventType.SystemExited)
    {
        exited.Set();
    }
}

Console.WriteLine("1. create 'Test' (UEFI, 1024 MB, 2 vCPU) and register the callback, as the sample does");
var system = Sample.Run("Test", Sample.c_EmptyVM, Print, assertions);

Console.WriteLine("2. start it");
using (var op = HcsCreateOperation(null, null))
{
    HcsException.ThrowIfFailed(HcsStartComputeSystem(system, op, null));
    HcsException.ThrowIfFailed(HcsWaitForOperationResult(op, INFINITE, out _));
}

Console.WriteLine("3. the guest crashes (fake guest panic): CrashInitiated, CrashReport, then SystemExited");
fake.Get("Test").Panic("Kernel panic - not syncing: demo");
if (!exited.Wait(TimeSpan.FromSeconds(10)))
{
    assertions.Add("no SystemExited after the guest panic");
}

Console.WriteLine("4. a second system, shut down gracefully");
exited.Reset();
var second = Sample.Run("Test2", Sample.c_EmptyVM, Print, assertions);
using (var op = HcsCreateOperation(null, null))
{
    HcsException.ThrowIfFailed(HcsStartComputeSystem(second, op, null));
    HcsException.ThrowIfFailed(HcsWaitForOperationResult(op, INFINITE, out _));
    HcsException.ThrowIfFailed(HcsShutDownComputeSystem(second, op, null));
    HcsException.ThrowIfFailed(HcsWaitForOperationResult(op, INFINITE, out _));
}

if (!exited.Wait(TimeSpan.FromSeconds(10)))
{
    assertions.Add("no SystemExited after the shutdown");
}

HcsCloseComputeSystem(system);
HcsCloseComputeSystem(second);

Console.WriteLine(assertions.Count == 0 ? "demo: OK (no WI_ASSERT failed)" : $"demo: FAILED: {string.Join("; ", assertions)}");
return assertions.Count == 0 ? 0 : 1;
