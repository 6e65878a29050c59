// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;

namespace Hcs.Architecture.Tests;

/// <summary>
/// The projects of <c>src/</c> as built: each project file (its assembly name, project and package references) and
/// its compiled assembly in <c>bin/CONFIGURATION/TFM</c> (the configuration and framework this test was built for),
/// read with System.Reflection.Metadata, so nothing is loaded into the test.
/// </summary>
internal static class SourceTree
{
    private static readonly Lazy<IReadOnlyList<SourceProject>> s_projects = new(ReadProjects);

    /// <summary>The repository root: the nearest directory above this test holding <c>Hcs.slnx</c>.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Every project under <c>src/</c>.</summary>
    public static IReadOnlyList<SourceProject> Projects => s_projects.Value;

    public static SourceProject Project(string assembly) => Projects.Single(p => p.Assembly == assembly);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Hcs.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Hcs.slnx above {AppContext.BaseDirectory}");
    }

    private static IReadOnlyList<SourceProject> ReadProjects()
    {
        // This test's own output is test/NAME/bin/CONFIGURATION/TFM/: the projects are read from the same configuration.
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = output.Name;
        var configuration = output.Parent!.Name;
        var files = Directory.GetDirectories(Path.Combine(Root, "src"))
            .SelectMany(d => Directory.GetFiles(d, "*.csproj"))
            .Order(StringComparer.Ordinal)
            .ToList();
        var names = files.ToDictionary(f => f, AssemblyNameOf, StringComparer.Ordinal);
        return [.. files.Select(f =>
        {
            var xml = XDocument.Load(f);
            var dir = Path.GetDirectoryName(f)!;
            var projectReferences = xml.Descendants("ProjectReference")
                .Select(r => Path.GetFullPath(Path.Combine(dir, r.Attribute("Include")!.Value)))
                .Select(p => names.TryGetValue(p, out var name) ? name : Path.GetFileNameWithoutExtension(p))
                .ToList();
            var packageReferences = xml.Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).ToList();
            var bin = Path.Combine(dir, "bin", configuration, framework);
            return new SourceProject(names[f], Path.GetRelativePath(Root, dir), Path.GetFileNameWithoutExtension(f), bin,
                projectReferences, packageReferences);
        })];
    }

    private static string AssemblyNameOf(string projectFile) =>
        XDocument.Load(projectFile).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(projectFile);
}

/// <summary>One project of <c>src/</c>.</summary>
/// <param name="Assembly">Its assembly name (<c>AssemblyName</c>, else the project's name).</param>
/// <param name="Directory">Its directory relative to the repository root, e.g. <c>src/Hcs.Shim</c>.</param>
/// <param name="Name">The project's name (its file name without <c>.csproj</c>).</param>
/// <param name="Bin">Where it is built.</param>
/// <param name="ProjectReferences">The assemblies of the projects its project file references.</param>
/// <param name="PackageReferences">The NuGet packages its project file references.</param>
internal sealed record SourceProject(string Assembly, string Directory, string Name, string Bin,
    IReadOnlyList<string> ProjectReferences, IReadOnlyList<string> PackageReferences)
{
    private readonly Lazy<CompiledAssembly> _compiled = new(() => CompiledAssembly.Read(Path.Combine(Bin, Assembly + ".dll")));

    /// <summary>The compiled assembly (fails when the project is not built).</summary>
    public CompiledAssembly Compiled => _compiled.Value;

    /// <summary>
    /// Every library of the built dependency graph (<c>bin/…/ASSEMBLY.deps.json</c>: what the project brings with it at
    /// run time) and of its restore graph (<c>obj/project.assets.json</c>: what restoring it downloads), by name and
    /// type (<c>package</c> or <c>project</c>), itself excluded.
    /// </summary>
    public IReadOnlyList<(string Name, string Type, string Source)> Libraries()
    {
        var found = new List<(string, string, string)>();
        var deps = Path.Combine(Bin, Assembly + ".deps.json");
        var assets = Path.Combine(SourceTree.Root, Directory, "obj", "project.assets.json");
        foreach (var file in new[] { deps, assets })
        {
            if (!File.Exists(file))
            {
                throw new FileNotFoundException($"{file} is missing: build the solution first (./build.sh build)", file);
            }

            using var json = JsonDocument.Parse(File.ReadAllBytes(file));
            foreach (var library in json.RootElement.GetProperty("libraries").EnumerateObject())
            {
                var name = library.Name[..library.Name.IndexOf('/', StringComparison.Ordinal)];
                if (name != Assembly && name != Name)
                {
                    found.Add((name, library.Value.GetProperty("type").GetString()!, Path.GetFileName(file)));
                }
            }
        }

        return found;
    }
}

/// <summary>
/// What an assembly's metadata says: the assemblies it references, and the native functions it imports
/// (<c>TYPE: LIBRARY!FUNCTION</c>).
/// </summary>
internal sealed record CompiledAssembly(string Name, IReadOnlyList<string> References, IReadOnlyList<string> PlatformInvokes)
{
    public static CompiledAssembly Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} is missing: build the solution first (./build.sh build)", path);
        }

        using var pe = new PEReader(File.OpenRead(path));
        var md = pe.GetMetadataReader();
        var references = md.AssemblyReferences.Select(h => md.GetString(md.GetAssemblyReference(h).Name)).ToList();
        // DllImport, and LibraryImport (whose generated stub is a DllImport), are methods with PinvokeImpl.
        var pinvokes = md.MethodDefinitions
            .Select(md.GetMethodDefinition)
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Select(m => (Type: TypeName(md, m.GetDeclaringType()), Import: m.GetImport()))
            .Select(m => $"{m.Type}: {md.GetString(md.GetModuleReference(m.Import.Module).Name)}!{md.GetString(m.Import.Name)}")
            .Distinct()
            .ToList();
        return new CompiledAssembly(md.GetString(md.GetAssemblyDefinition().Name), references, pinvokes);
    }

    private static string TypeName(MetadataReader md, TypeDefinitionHandle handle)
    {
        var type = md.GetTypeDefinition(handle);
        var name = md.GetString(type.Name);
        return type.GetDeclaringType() is { IsNil: false } outer
            ? $"{TypeName(md, outer)}+{name}"
            : md.GetString(type.Namespace) is { Length: > 0 } ns ? $"{ns}.{name}" : name;
    }
}
