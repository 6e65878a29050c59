// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Backends.Fake;
using Hcs.Conformance;

namespace Hcs.Engine.Tests;

/// <summary>Base of the fake-only tests: the conformance helpers plus direct access to the fake backend.</summary>
public abstract class FakeTestBase() : ConformanceTestBase(new FakeClockFixture())
{
    /// <summary>The fake fixture.</summary>
    protected FakeClockFixture Fake => (FakeClockFixture)Fixture;

    /// <summary>The fake system <paramref name="id"/>.</summary>
    protected FakeSystem FakeSystem(string id) => Fake.System(id);
}
