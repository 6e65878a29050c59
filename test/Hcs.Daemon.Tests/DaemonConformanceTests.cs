// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Conformance;

namespace Hcs.Daemon.Tests;

// Every behaviour suite again, with every call, event and error crossing hcsd's socket.
public sealed class DaemonLifecycleTests() : LifecycleConformance(new DaemonFakeFixture());

public sealed class DaemonStateMatrixTests() : StateMatrixConformance(new DaemonFakeFixture());

public sealed class DaemonExitTests() : ExitConformance(new DaemonFakeFixture());

public sealed class DaemonEventTests() : EventConformance(new DaemonFakeFixture());

public sealed class DaemonHandleTests() : HandleConformance(new DaemonFakeFixture());

public sealed class DaemonPropertiesTests() : PropertiesConformance(new DaemonFakeFixture());

public sealed class DaemonServiceDisconnectTests() : ServiceDisconnectConformance(new DaemonFakeFixture());

public sealed class DaemonProcessTests() : ProcessConformance(new DaemonFakeFixture());
