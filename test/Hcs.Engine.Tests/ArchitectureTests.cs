// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using Hcs.Backends.Fake;
using Hcs.Contracts;
using Hcs.Engine;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>The dependency rules of ARCHITECTURE.md, checked on the compiled assemblies.</summary>
public sealed class ArchitectureTests
{
    private static readonly Assembly s_schema = typeof(HcsJson).Assembly;
    private static readonly Assembly s_contracts = typeof(IComputeService).Assembly;
    private static readonly Assembly s_engine = typeof(ComputeEngine).Assembly;
    private static readonly Assembly s_fake = typeof(FakeBackend).Assembly;
    private static readonly Assembly s_client = Assembly.Load("Hcs.Client");

    public static TheoryData<string, string[]> Rules => new()
    {
        // assembly, the hcs assemblies it may reference (anything else starting with "Hcs." is a violation)
        { "Hcs.Schema", [] },
        { "Hcs.Contracts", ["Hcs.Schema"] },
        { "Hcs.Engine", ["Hcs.Schema", "Hcs.Contracts", "Hcs.Linux"] },
        { "Hcs.Backends.Fake", ["Hcs.Schema", "Hcs.Contracts", "Hcs.Engine"] },
        // The client picks hcsd (over Hcs.Protocol, gRPC) or an engine it embeds (built by Hcs.Host).
        { "Hcs.Client", ["Hcs.Schema", "Hcs.Contracts", "Hcs.Host", "Hcs.Protocol", "Hcs.Engine"] },
    };

    /// <summary>Only the wire layers speak gRPC: the engine and everything under it stay transport-agnostic.</summary>
    public static TheoryData<string> TransportAgnostic => new() { "Hcs.Schema", "Hcs.Contracts", "Hcs.Engine", "Hcs.Backends.Fake" };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Assembly_ReferencesOnlyTheLayersBelowIt(string assembly, string[] allowed)
    {
        var references = Load(assembly).GetReferencedAssemblies().Select(r => r.Name!).ToList();
        var forbidden = references.Where(r => r.StartsWith("Hcs.", StringComparison.Ordinal) && !allowed.Contains(r)).ToList();
        Assert.True(forbidden.Count == 0, $"{assembly} must not reference {string.Join(", ", forbidden)}");
    }

    [Theory]
    [MemberData(nameof(TransportAgnostic))]
    public void EngineLayers_DoNotReferenceTheTransport(string assembly)
    {
        var references = Load(assembly).GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.DoesNotContain(references, r => r.StartsWith("Grpc", StringComparison.Ordinal) || r.StartsWith("Google.Protobuf", StringComparison.Ordinal));
    }

    [Fact]
    public void Schema_ReferencesOnlyTheBaseClassLibrary()
    {
        var references = s_schema.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        Assert.All(references, r => Assert.True(r.StartsWith("System", StringComparison.Ordinal) || r == "netstandard",
            $"Hcs.Schema references {r}"));
    }

    [Theory]
    [InlineData("Hcs.Schema")]
    [InlineData("Hcs.Contracts")]
    [InlineData("Hcs.Engine")]
    [InlineData("Hcs.Backends.Fake")]
    [InlineData("Hcs.Client")]
    public void NoPlatformInvokeOutsideTheInteropLayer(string assembly)
    {
        var pinvokes = Load(assembly).GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Where(m => !IsLinuxHostLayer(m.DeclaringType!))
            .Select(m => $"{m.DeclaringType}.{m.Name}")
            .ToList();
        Assert.Empty(pinvokes);
    }

    /// <summary>
    /// The Linux host layer (the <c>Hcs.Linux</c> assembly: processes, host paths with a caller's credentials, mounts by
    /// descriptor, accounts, terminals) is, with hcs-shim, the only place that declares native calls.
    /// </summary>
    private static bool IsLinuxHostLayer(Type type) => type.Assembly.GetName().Name == Hcs.Linux.LinuxLayer.AssemblyName;

    private static Assembly Load(string name) => name switch
    {
        "Hcs.Schema" => s_schema,
        "Hcs.Contracts" => s_contracts,
        "Hcs.Engine" => s_engine,
        "Hcs.Backends.Fake" => s_fake,
        "Hcs.Client" => s_client,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
