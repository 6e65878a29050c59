// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using EventCallbackSample;
using Hcs.Backends.Fake;
using Hcs.Backends.Qemu;
using Hcs.Client;
using Hcs.Engine;
using Hcs.Engine.Backends;
using Hcs.Schema;
using static Hcs.Client.ComputeCore;

// The demo: runs the seed sample, then drives systems through their lives so each callback fires, printing every
// event with its EventData. `--backend qemu` (the default when QEMU, OVMF and the test guest are present) uses real
// VMs under QEMU; `--backend fake` uses the in-memory test backend.
var guest = Path.GetFullPath(Environment.GetEnvironmentVariable("HCS_GUEST_DIR") ?? Path.Combine("artifacts", "guest"));
// `--socket PATH` runs the same scenario through a running hcsd (its backends decide: QEMU for real VMs).
var socket = args.Length == 2 && args[0] == "--socket" ? args[1] : null;
var backendName = socket is not null ? "hcsd" : args.Length == 2 && args[0] == "--backend" ? args[1] : QemuAvailable(guest) ? "qemu" : "fake";
var runtime = Directory.CreateTempSubdirectory("hcs-demo-");
Console.WriteLine("hcs demo: the seed event-callback sample");
var fake = new FakeBackend();
fake.Script("Test", new FakeScript { IgnoreShutdown = true }); // like the UEFI shell, the fake guest ignores ACPI
IComputeBackend backend = backendName switch
{
    "qemu" or "hcsd" => new QemuBackend(new QemuSettings(), runtime.FullName),
    "fake" => fake,
    _ => throw new ArgumentException($"unknown backend '{backendName}' (qemu or fake)"),
};
Console.WriteLine(backendName switch
{
    "qemu" => "backend: QEMU (real VMs, TCG)",
    "hcsd" => $"service: hcsd at {socket} (its QEMU backend: real VMs)",
    _ => "backend: FAKE (in-memory test backend; run with --backend qemu, or install QEMU, OVMF and the test guest, for real VMs)",
});

var clock = Stopwatch.StartNew();
var assertions = new List<string>();
try
{
    await using var engine = new ComputeEngine([backend], new EngineOptions { ShutdownTimeout = TimeSpan.FromSeconds(5) });
    using var client = socket is null
        ? HcsClient.Connect(engine, "EventCallbackSample")
        : HcsClient.Connect(new HcsConnectOptions { Socket = socket, Mode = HcsServiceMode.Daemon, ClientName = "EventCallbackSample" });
    using var scope = HcsClient.Use(client);
    var exited = new ManualResetEventSlim();
    void Print(HcsEvent ev)
    {
        var data = ev.EventData is { Length: > 300 } full ? full[..300] + $"... ({full.Length} chars)" : ev.EventData ?? "null";
        Console.WriteLine($"  [{clock.Elapsed.TotalMilliseconds,8:0.0} ms] event {ev.Type} (0x{(uint)ev.Type:X8}) EventData={data}");
        if (ev.Type == HcsEventType.SystemExited)
        {
            exited.Set();
        }
    }

    int Wait(HcsOperation op) => HcsWaitForOperationResult(op, INFINITE, out _);

    Console.WriteLine("1. create 'Test' (UEFI, no disk, 1024 MB, 2 vCPU) and register the callback, exactly as the sample does");
    var system = Sample.Run("Test", Sample.c_EmptyVM, Print, assertions);
    using (var op = HcsCreateOperation(null, null))
    {
        Console.WriteLine("2. start it");
        HcsException.ThrowIfFailed(HcsStartComputeSystem(system, op, null));
        HcsException.ThrowIfFailed(Wait(op));
        Console.WriteLine("3. shut it down: a UEFI shell ignores the ACPI power button, so this fails after the shutdown timeout (5 s here)");
        HcsException.ThrowIfFailed(HcsShutDownComputeSystem(system, op, null));
        var hr = HcsWaitForOperationResult(op, INFINITE, out var doc);
        Console.WriteLine($"   ShutDown → {HResults.NameOf(hr)}: {(doc is null ? "" : HcsJson.Deserialize<ResultError>(doc).ErrorMessage)}");
        if (hr != HResults.ERROR_TIMEOUT)
        {
            assertions.Add($"the UEFI shell was expected to ignore the shutdown, got {HResults.NameOf(hr)}");
        }

        if (hr < 0)
        {
            Console.WriteLine("4. terminate it: SystemExited (ForcedExit)");
            HcsException.ThrowIfFailed(HcsTerminateComputeSystem(system, op, null));
            HcsException.ThrowIfFailed(Wait(op));
        }
    }

    if (!exited.Wait(TimeSpan.FromSeconds(30)))
    {
        assertions.Add("no SystemExited for 'Test'");
    }

    Console.WriteLine("5. a Linux guest that panics: SystemCrashInitiated, SystemCrashReport (with the console's panic text), SystemExited");
    exited.Reset();
    var linux = $$"""
    {
        "SchemaVersion": { "Major": 2, "Minor": 2 },
        "Owner": "Sample",
        "VirtualMachine": {
            "Chipset": { "LinuxKernelDirect": {
                "KernelFilePath": "{{Path.Combine(guest, "vmlinuz")}}",
                "InitRdPath": "{{Path.Combine(guest, "initrd.cpio.gz")}}",
                "KernelCmdLine": "console=ttyS0 quiet panic=-1 hcstest=panic:500" } },
            "ComputeTopology": { "Memory": { "SizeInMB": 256 }, "Processor": { "Count": 1 } },
            "Devices": { "GuestCrashReporting": {} }
        },
        "ShouldTerminateOnLastHandleClosed": true
    }
    """;
    var second = Sample.Run("Test2", linux, Print, assertions);
    using (var op = HcsCreateOperation(null, null))
    {
        HcsException.ThrowIfFailed(HcsStartComputeSystem(second, op, null));
        HcsException.ThrowIfFailed(Wait(op));
    }

    if (backendName == "fake")
    {
        fake.Get("Test2").Panic("Kernel panic - not syncing: demo");
    }

    if (!exited.Wait(TimeSpan.FromSeconds(90)))
    {
        assertions.Add("no SystemExited after the guest panic");
    }

    HcsCloseComputeSystem(system);
    HcsCloseComputeSystem(second);
}
finally
{
    runtime.Delete(recursive: true);
}

Console.WriteLine(assertions.Count == 0 ? "demo: OK (no WI_ASSERT failed)" : $"demo: FAILED: {string.Join("; ", assertions)}");
return assertions.Count == 0 ? 0 : 1;

static bool QemuAvailable(string guest) =>
    File.Exists("/usr/share/OVMF/OVMF_CODE_4M.fd") && File.Exists(Path.Combine(guest, "initrd.cpio.gz"))
    && Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(d => File.Exists(Path.Combine(d, "qemu-system-x86_64")));
