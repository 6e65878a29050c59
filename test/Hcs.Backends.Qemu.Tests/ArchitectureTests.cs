// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Xunit;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>The QEMU backend depends only on the layers below it (ARCHITECTURE.md).</summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void QemuBackend_ReferencesOnlySchemaContractsAndEngine()
    {
        var references = typeof(QmpClient).Assembly.GetReferencedAssemblies().Select(r => r.Name!).ToList();
        var hcs = references.Where(r => r.StartsWith("Hcs.", StringComparison.Ordinal)).ToList();
        Assert.All(hcs, r => Assert.Contains(r, (string[])["Hcs.Schema", "Hcs.Contracts", "Hcs.Engine", "Hcs.Linux"]));
        Assert.DoesNotContain(references, r => r.StartsWith("Grpc", StringComparison.Ordinal));
    }
}
