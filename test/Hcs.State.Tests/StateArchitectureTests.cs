// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using Hcs.Engine;
using Xunit;

namespace Hcs.State.Tests;

/// <summary>Hcs.State sits beside the engine: it knows the engine's store contract and SQLite, nothing above or beside it.</summary>
public sealed class StateArchitectureTests
{
    [Fact]
    public void State_ReferencesOnlyTheEngineLayers_AndNoTransport()
    {
        var references = typeof(SqliteStateStore).Assembly.GetReferencedAssemblies().Select(r => r.Name!).ToList();

        var hcs = references.Where(r => r.StartsWith("Hcs.", StringComparison.Ordinal)).ToList();
        Assert.All(hcs, r => Assert.Contains(r, new[] { "Hcs.Engine", "Hcs.Contracts", "Hcs.Schema" }));
        Assert.Contains("Hcs.Engine", hcs);
        Assert.DoesNotContain(references, r => r.StartsWith("Grpc", StringComparison.Ordinal) || r.StartsWith("Google.Protobuf", StringComparison.Ordinal));
    }

    [Fact]
    public void Engine_DoesNotReferenceSqlite()
    {
        var references = typeof(ComputeEngine).Assembly.GetReferencedAssemblies().Select(r => r.Name!).ToList();

        Assert.DoesNotContain(references, r => r.Contains("Sqlite", StringComparison.OrdinalIgnoreCase) || r == "Hcs.State");
    }

    [Fact]
    public void NoPlatformInvokeInTheStore()
    {
        var pinvokes = typeof(SqliteStateStore).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .ToList();

        Assert.Empty(pinvokes);
    }
}
