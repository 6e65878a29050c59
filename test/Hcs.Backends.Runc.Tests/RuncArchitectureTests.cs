// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

/// <summary>The dependency rules of ARCHITECTURE.md for the runc backend.</summary>
public sealed class RuncArchitectureTests
{
    private static readonly Assembly s_runc = typeof(RuncBackend).Assembly;

    [Fact]
    public void RuncBackend_ReferencesOnlyTheEngineLayersAndTheShimProtocol_AndNoTransport()
    {
        var references = s_runc.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.DoesNotContain(references, r => r.StartsWith("Hcs.", StringComparison.Ordinal) && r is not ("Hcs.Schema" or "Hcs.Contracts" or "Hcs.Engine" or "Hcs.Shim.Protocol" or "Hcs.Linux"));
        Assert.DoesNotContain(references, r => r.StartsWith("Grpc", StringComparison.Ordinal));
    }

    [Fact]
    public void RuncBackend_DeclaresNoPlatformInvokes_TheLinuxLayerDoes()
    {
        var pinvokes = s_runc.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Select(m => $"{m.DeclaringType}.{m.Name}")
            .ToList();
        Assert.Empty(pinvokes);
    }
}
