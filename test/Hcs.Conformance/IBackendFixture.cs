// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Conformance;

/// <summary>
/// What a backend's test project provides so the conformance classes can run against it unchanged: a compute service
/// over that backend, clients, create documents whose guest follows the <c>hcstest=</c> verbs, and fault hooks.
/// One fixture serves one test (the conformance classes create and dispose it per test), so a test may dispose the
/// service (service disconnect) without disturbing any other test.
/// </summary>
public interface IBackendFixture : IAsyncDisposable
{
    /// <summary>Backend name, for messages.</summary>
    string Name { get; }

    /// <summary>The service under test, created on first use and disposed with the fixture.</summary>
    IComputeService Service { get; }

    /// <summary>The <see cref="SystemType"/> of the systems <see cref="VmDocument"/> describes.</summary>
    SystemType SystemType { get; }

    /// <summary>The service's <c>EngineOptions.ShutdownTimeout</c> (how long ShutDown waits for the guest).</summary>
    TimeSpan ShutdownTimeout { get; }

    /// <summary>Safety net for every await in a test: far longer than anything should take, so only a hang trips it.</summary>
    TimeSpan Timeout { get; }

    /// <summary>
    /// How long a test watches for something that must NOT happen (a reboot that must not stop the system, an
    /// event that must not arrive). Long enough for the guest to act on its verb, short enough to keep tests fast.
    /// </summary>
    TimeSpan Settle { get; }

    /// <summary>A directory private to this fixture (save files), deleted with it.</summary>
    string TempDirectory { get; }

    /// <summary>Connects a new client (a new session) to <see cref="Service"/>; the fixture disposes it at the end.</summary>
    HcsClient Connect(string? name = null);

    /// <summary>A system id not used before by this fixture.</summary>
    string NewId(string prefix = "conf");

    /// <summary>
    /// A <c>ComputeSystem</c> create document whose guest follows <paramref name="guestVerb"/>
    /// (<c>idle</c>, <c>poweroff:MS</c>, <c>panic:MS</c>, <c>reboot:MS</c>): for a VM backend a Linux kernel-direct VM with
    /// <c>hcstest=VERB</c> on its kernel command line; a container backend returns its equivalent.
    /// </summary>
    string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false);

    /// <summary>A create document of a system that runs processes (a container), for <see cref="ProcessConformance"/>.</summary>
    string ContainerDocument();

    /// <summary>
    /// The create document for system <paramref name="id"/>, whose guest ignores a shutdown request (fake: a scripted
    /// <c>IgnoreShutdown</c>; QEMU: a UEFI VM without a disk). Call it right before creating <paramref name="id"/>.
    /// </summary>
    string IgnoresShutdownDocument(string id);

    /// <summary>
    /// The create document for system <paramref name="id"/>, whose Start never completes on its own (a guest that never
    /// comes up), or null when the backend cannot arrange that (the tests that need it are then skipped).
    /// </summary>
    string? HangsOnStartDocument(string id);

    /// <summary>
    /// Completes once a Start just sent for <paramref name="id"/> has reached the backend. In process that is
    /// immediate; over hcsd's socket a call races the calls sent after it from other sessions, so a test that needs
    /// "Start is pending" before it acts waits here.
    /// </summary>
    Task StartArrivedAsync(string id);

    /// <summary>
    /// True when the systems of <see cref="VmDocument"/> run a guest kernel that can crash or reset (the
    /// <c>panic:MS</c> and <c>reboot:MS</c> verbs, <c>HcsCrashComputeSystem</c>, <c>StopOnReset</c>). A container has none:
    /// the tests of those behaviours are skipped for it, with that reason.
    /// </summary>
    bool HasGuestKernel { get; }

    /// <summary>True when a paused system's state can be saved to a file (<c>HcsSaveComputeSystem</c>).</summary>
    bool CanSave { get; }

    /// <summary>
    /// A modify request that sets the memory size of the systems of <see cref="VmDocument"/> to
    /// <paramref name="sizeInMb"/> MiB (a VM: <c>VirtualMachine/ComputeTopology/Memory/SizeInMB</c>; a container:
    /// <c>Container/Memory/SizeInMB</c>).
    /// </summary>
    ModifySettingRequest MemoryUpdate(ulong sizeInMb);

    /// <summary>Kills the system's worker process from outside (fake: <c>KillWorker()</c>; QEMU: <c>kill -9</c>), exit code 137.</summary>
    void KillWorker(string id);
}
