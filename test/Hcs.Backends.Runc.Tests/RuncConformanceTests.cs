// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Conformance;

namespace Hcs.Backends.Runc.Tests;

// The process conformance suite (the same tests as on the fake backend), in real runc containers.

public sealed class RuncProcessTests() : ProcessConformance(new RuncBackendFixture());
