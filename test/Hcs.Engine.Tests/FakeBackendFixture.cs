// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Conformance;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;

namespace Hcs.Engine.Tests;

/// <summary>
/// The conformance fixture for the in-memory fake backend: a fresh <see cref="ComputeEngine"/> over a fresh
/// <see cref="FakeBackend"/> per test, kernel-direct VM documents with dummy paths, and the fake's fault hooks.
/// </summary>
public class FakeBackendFixture : BackendFixture
{
    private ComputeEngine? _engine;

    /// <summary>The fake backend, to script systems before creation and to act as their guest or worker.</summary>
    public FakeBackend Backend { get; } = new();

    /// <summary>The engine behind <see cref="BackendFixture.Service"/> (which may reach it over hcsd's socket).</summary>
    public ComputeEngine Engine => CreateEngine();

    /// <inheritdoc />
    public override string Name => "fake";

    /// <inheritdoc />
    public override TimeSpan ShutdownTimeout => TimeSpan.FromMilliseconds(300);

    /// <summary>The fake system <paramref name="id"/>.</summary>
    public FakeSystem System(string id) => Backend.Get(id);

    /// <summary>Scripts system <paramref name="id"/> and returns an idle VM document for it.</summary>
    public string Scripted(string id, FakeScript script, string guestVerb = "idle")
    {
        Backend.Script(id, script);
        return VmDocument(guestVerb);
    }

    /// <inheritdoc />
    public override string VmDocument(string guestVerb, bool stopOnReset = false, bool terminateOnLastHandleClosed = false) =>
        FakeDocuments.Vm(guestVerb, "hcs-tests", stopOnReset, terminateOnLastHandleClosed);

    /// <inheritdoc />
    public override string ContainerDocument() => """{"Owner":"fake-conformance","Container":{"Storage":{"Path":"/scratch"}}}""";

    /// <inheritdoc />
    public override string IgnoresShutdownDocument(string id) => Scripted(id, new FakeScript { IgnoreShutdown = true });

    /// <inheritdoc />
    public override string? HangsOnStartDocument(string id) => Scripted(id, new FakeScript { HangStart = true });

    /// <inheritdoc />
    public override void KillWorker(string id) => Backend.Get(id).KillWorker();

    /// <inheritdoc />
    protected override IComputeService CreateService() => CreateEngine();

    /// <summary>The clock the engine runs on.</summary>
    protected virtual TimeProvider Time => TimeProvider.System;

    /// <summary>Creates the engine over <see cref="Backend"/> (once).</summary>
    protected ComputeEngine CreateEngine() => _engine ??= new ComputeEngine([Backend], new EngineOptions { ShutdownTimeout = ShutdownTimeout, Time = Time });
}
