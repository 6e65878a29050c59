// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Conformance;

namespace Hcs.Backends.Qemu.Tests;

// The conformance suite, run against real QEMU VMs under TCG. Each test gets a fresh fixture (engine + backend); the
// assembly runs one test at a time (xunit.runner.json), so at most one VM of this assembly boots at once.

public sealed class QemuLifecycleTests() : LifecycleConformance(new QemuBackendFixture());

public sealed class QemuStateMatrixTests() : StateMatrixConformance(new QemuBackendFixture());

public sealed class QemuExitTests() : ExitConformance(new QemuBackendFixture());

public sealed class QemuEventTests() : EventConformance(new QemuBackendFixture());

public sealed class QemuHandleTests() : HandleConformance(new QemuBackendFixture());

public sealed class QemuPropertiesTests() : PropertiesConformance(new QemuBackendFixture());

public sealed class QemuServiceDisconnectTests() : ServiceDisconnectConformance(new QemuBackendFixture());
