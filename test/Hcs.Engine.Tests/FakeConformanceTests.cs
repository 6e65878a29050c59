// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Conformance;

namespace Hcs.Engine.Tests;

// The conformance suite, run against the fake backend. Each test gets a fresh fixture (engine + backend).

public sealed class FakeLifecycleTests() : LifecycleConformance(new FakeBackendFixture());

public sealed class FakeStateMatrixTests() : StateMatrixConformance(new FakeBackendFixture());

public sealed class FakeExitTests() : ExitConformance(new FakeBackendFixture());

public sealed class FakeEventTests() : EventConformance(new FakeBackendFixture());

public sealed class FakeHandleTests() : HandleConformance(new FakeBackendFixture());

public sealed class FakePropertiesTests() : PropertiesConformance(new FakeBackendFixture());

public sealed class FakeServiceDisconnectTests() : ServiceDisconnectConformance(new FakeBackendFixture());

public sealed class FakeProcessTests() : ProcessConformance(new FakeBackendFixture());
