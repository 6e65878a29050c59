// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using Hcs.Shim.Protocol;

namespace Hcs.Shim.Tests;

/// <summary>The shim protocol stands alone: both sides compile it in, so it may depend on neither.</summary>
public sealed class ShimArchitectureTests
{
    private static readonly Assembly s_protocol = typeof(ShimProtocol).Assembly;

    [Fact]
    public void Protocol_ReferencesOnlyTheBaseClassLibrary()
    {
        var references = s_protocol.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.All(references, r => Assert.True(r.StartsWith("System", StringComparison.Ordinal) || r == "netstandard", $"Hcs.Shim.Protocol references {r}"));
    }

    [Fact]
    public void Protocol_DeclaresNoPlatformInvoke()
    {
        var pinvokes = s_protocol.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Select(m => $"{m.DeclaringType}.{m.Name}");
        Assert.Empty(pinvokes);
    }

    [Fact]
    public void Shim_ReferencesTheProtocol_AndNoEngineLayer()
    {
        var references = typeof(Program).Assembly.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.Contains("Hcs.Shim.Protocol", references);
        Assert.DoesNotContain(references, r => r is "Hcs.Engine" or "Hcs.Schema" or "Hcs.Contracts" or "Hcs.Backends.Runc");
    }
}
