// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Conformance;

namespace Hcs.Backends.Runc.Tests;

// The conformance suite (the same tests as on the fake backend and on QEMU), in real runc containers. Each test gets
// a fresh fixture (engine + backend + runtime root). What a container cannot do (a guest kernel to panic, reset or
// crash; a checkpoint to save) is skipped by the suite with that reason (IBackendFixture.HasGuestKernel, CanSave).

public sealed class RuncLifecycleTests() : LifecycleConformance(new RuncBackendFixture());

public sealed class RuncStateMatrixTests() : StateMatrixConformance(new RuncBackendFixture());

public sealed class RuncExitTests() : ExitConformance(new RuncBackendFixture());

public sealed class RuncEventTests() : EventConformance(new RuncBackendFixture());

public sealed class RuncHandleTests() : HandleConformance(new RuncBackendFixture());

public sealed class RuncPropertiesTests() : PropertiesConformance(new RuncBackendFixture());

public sealed class RuncServiceDisconnectTests() : ServiceDisconnectConformance(new RuncBackendFixture());

public sealed class RuncProcessTests() : ProcessConformance(new RuncBackendFixture());
