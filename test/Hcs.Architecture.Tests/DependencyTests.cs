// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Architecture.Tests;

/// <summary>
/// The dependency rules of ARCHITECTURE.md over every assembly of <c>src/</c>, checked on the compiled assemblies,
/// their project files and their package graphs against the one table under <c>## Dependencies</c>.
/// </summary>
public sealed class DependencyTests
{
    /// <summary>The wire layers: the only assemblies that reference gRPC or protobuf.</summary>
    private static readonly string[] s_wireLayers = ["Hcs.Protocol", "Hcs.Client", "hcsd"];

    /// <summary>The assemblies that may declare native calls (DllImport, LibraryImport).</summary>
    private static readonly string[] s_nativeLayers = ["Hcs.Linux", "hcs-shim"];

    private static readonly Lazy<DependencyTable> s_table = new(() => DependencyTable.Read(Path.Combine(SourceTree.Root, "ARCHITECTURE.md")));

    private static DependencyTable Table => s_table.Value;

    private static bool IsHcs(string assembly) => SourceTree.Projects.Any(p => p.Assembly == assembly || p.Name == assembly);

    [Fact]
    public void EveryProjectInSrc_HasARow_AndEveryRowAProject()
    {
        var problems = SourceTree.Projects
            .Where(p => !Table.Has(p.Assembly))
            .Select(p => $"{p.Directory} (assembly {p.Assembly}) has no row in ARCHITECTURE.md's {DependencyTable.Heading} table")
            .Concat(Table.Rows
                .Where(r => !SourceTree.Projects.Any(p => p.Assembly == r.Assembly && p.Directory == r.Project))
                .Select(r => $"the row {r.Assembly} ({r.Project}) names no project of src/"))
            .ToList();

        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void TheTable_PointsDown()
    {
        var cycles = Table.Rows.Where(r => Table.Closure(r.Assembly).Contains(r.Assembly)).Select(r => r.Assembly).ToList();

        Assert.True(cycles.Count == 0, $"the table has a cycle through {string.Join(", ", cycles)}");
    }

    /// <summary>
    /// Rule (a): every reference between hcs assemblies — in the compiled metadata, in a project file, or in the built
    /// dependency graph, and every one reached through them — is allowed by the closure of the table.
    /// </summary>
    [Fact]
    public void EveryReference_DirectOrTransitive_IsAllowedByTheTable()
    {
        var edges = SourceTree.Projects.ToDictionary(p => p.Assembly, DirectHcsReferences, StringComparer.Ordinal);
        var violations = new List<string>();
        foreach (var project in SourceTree.Projects.Where(p => Table.Has(p.Assembly)))
        {
            var allowed = Table.Closure(project.Assembly);
            foreach (var (reached, path) in Reach(project.Assembly, edges).Where(r => !allowed.Contains(r.Assembly)))
            {
                violations.Add($"{path} (the table lets {project.Assembly} reach only {Describe(allowed)})");
            }

            foreach (var library in project.Libraries().Where(l => l.Type == "project" && IsHcs(l.Name)))
            {
                var name = SourceTree.Projects.First(p => p.Assembly == library.Name || p.Name == library.Name).Assembly;
                if (!allowed.Contains(name))
                {
                    violations.Add($"{project.Assembly} brings {name} with it ({library.Source}; the table lets it reach only {Describe(allowed)})");
                }
            }
        }

        Assert.True(violations.Count == 0, string.Join('\n', violations.Distinct()));
    }

    /// <summary>
    /// Rule (b), the point of the client being only a client: using or restoring Hcs.Client alone brings no engine,
    /// backend, state store, host or SQLite with it — neither in the compiled references nor in the package graph.
    /// </summary>
    [Fact]
    public void TheClient_BringsNoEngineBackendStateOrSqlite()
    {
        var edges = SourceTree.Projects.ToDictionary(p => p.Assembly, DirectHcsReferences, StringComparer.Ordinal);
        var client = SourceTree.Project("Hcs.Client");
        var found = Reach(client.Assembly, edges).Where(r => IsServiceSide(r.Assembly)).Select(r => r.Path)
            .Concat(client.Compiled.References.Where(IsServiceSide).Select(r => $"Hcs.Client references {r}"))
            .Concat(client.Libraries().Where(l => IsServiceSide(l.Name)).Select(l => $"{l.Name} ({l.Type}) is in Hcs.Client's {l.Source}"))
            .ToList();

        Assert.True(found.Count == 0, string.Join('\n', found.Distinct()));

        static bool IsServiceSide(string name) =>
            name is "Hcs.Engine" or "Hcs.State" or "Hcs.Host" or "hcsd" or "Hcs.Daemon"
            || name.StartsWith("Hcs.Backends.", StringComparison.Ordinal)
            || name.Contains("sqlite", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Rule (c): only the wire layers speak gRPC; the engine and everything under it stay transport-agnostic.</summary>
    [Fact]
    public void OnlyTheWireLayers_ReferenceGrpcOrProtobuf()
    {
        var found = SourceTree.Projects
            .Where(p => !s_wireLayers.Contains(p.Assembly))
            .SelectMany(p => p.Compiled.References.Concat(p.PackageReferences).Where(IsWire).Distinct().Select(r => $"{p.Assembly} → {r}"))
            .ToList();

        Assert.True(found.Count == 0, $"only {string.Join(", ", s_wireLayers)} may reference gRPC or protobuf:\n{string.Join('\n', found)}");

        static bool IsWire(string name) => name.StartsWith("Grpc", StringComparison.Ordinal) || name.StartsWith("Google.Protobuf", StringComparison.Ordinal);
    }

    /// <summary>Rule (d): native calls are declared only in the Linux layer and in hcs-shim.</summary>
    [Fact]
    public void PlatformInvoke_OnlyInTheLinuxLayerAndTheShim()
    {
        var found = SourceTree.Projects
            .Where(p => !s_nativeLayers.Contains(p.Assembly))
            .SelectMany(p => p.Compiled.PlatformInvokes.Select(m => $"{p.Assembly}: {m}"))
            .ToList();

        Assert.True(found.Count == 0, $"P/Invoke outside {string.Join(" and ", s_nativeLayers)}:\n{string.Join('\n', found)}");
    }

    [Fact]
    public void Schema_ReferencesOnlyTheBaseClassLibrary()
    {
        var references = SourceTree.Project("Hcs.Schema").Compiled.References;

        Assert.All(references, r => Assert.True(r.StartsWith("System", StringComparison.Ordinal) || r == "netstandard", $"Hcs.Schema references {r}"));
    }

    [Fact]
    public void OnlyTheStateStore_ReferencesSqlite()
    {
        var found = SourceTree.Projects
            .Where(p => p.Assembly != "Hcs.State")
            .SelectMany(p => p.Compiled.References.Concat(p.PackageReferences)
                .Where(r => r.Contains("sqlite", StringComparison.OrdinalIgnoreCase)).Distinct().Select(r => $"{p.Assembly} → {r}"))
            .ToList();

        Assert.True(found.Count == 0, string.Join('\n', found));
    }

    /// <summary>The hcs assemblies a project references directly: in its compiled metadata or in its project file.</summary>
    private static IReadOnlyList<string> DirectHcsReferences(SourceProject project) =>
        [.. project.Compiled.References.Concat(project.ProjectReferences).Where(IsHcs).Distinct(StringComparer.Ordinal)];

    /// <summary>Every assembly reachable from <paramref name="from"/> over <paramref name="edges"/>, with one path to it.</summary>
    private static IEnumerable<(string Assembly, string Path)> Reach(string from, Dictionary<string, IReadOnlyList<string>> edges)
    {
        var paths = new Dictionary<string, string>(StringComparer.Ordinal) { [from] = from };
        var pending = new Queue<string>([from]);
        while (pending.TryDequeue(out var next))
        {
            foreach (var target in edges.GetValueOrDefault(next) ?? [])
            {
                if (paths.TryAdd(target, $"{paths[next]} → {target}"))
                {
                    pending.Enqueue(target);
                    yield return (target, paths[target]);
                }
            }
        }
    }

    private static string Describe(IReadOnlySet<string> allowed) => allowed.Count == 0 ? "nothing" : string.Join(", ", allowed.Order(StringComparer.Ordinal));
}
