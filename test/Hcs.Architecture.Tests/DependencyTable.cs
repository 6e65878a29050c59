// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Architecture.Tests;

/// <summary>
/// The table of allowed references under <c>## Dependencies</c> in ARCHITECTURE.md: one row per assembly of
/// <c>src/</c> (its project directory and the assemblies it may reference directly). The tests read the document
/// itself, so the document and the tests cannot disagree.
/// </summary>
internal sealed class DependencyTable
{
    public const string Heading = "## Dependencies";

    private readonly Dictionary<string, Row> _rows;

    private DependencyTable(Dictionary<string, Row> rows) => _rows = rows;

    /// <summary>One row: an assembly, its project directory (relative to the repository), the assemblies it may reference.</summary>
    public sealed record Row(string Assembly, string Project, IReadOnlyList<string> MayReference);

    public IReadOnlyCollection<Row> Rows => _rows.Values;

    public bool Has(string assembly) => _rows.ContainsKey(assembly);

    /// <summary>Everything <paramref name="assembly"/> may reach: the transitive closure of its row's edges.</summary>
    public IReadOnlySet<string> Closure(string assembly)
    {
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(_rows[assembly].MayReference);
        while (pending.TryPop(out var next))
        {
            if (reached.Add(next))
            {
                foreach (var further in _rows[next].MayReference)
                {
                    pending.Push(further);
                }
            }
        }

        return reached;
    }

    /// <summary>Reads the table of <paramref name="markdownPath"/>; throws when the section or a row is malformed.</summary>
    public static DependencyTable Read(string markdownPath)
    {
        var lines = File.ReadAllLines(markdownPath);
        var start = Array.IndexOf(lines, Heading);
        if (start < 0)
        {
            throw new InvalidDataException($"{markdownPath} has no '{Heading}' section");
        }

        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        var header = true;
        foreach (var line in lines.Skip(start + 1).TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal)))
        {
            if (!line.StartsWith('|'))
            {
                continue;
            }

            var cells = line.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            if (header || cells.All(c => c.Trim('-', ':', ' ').Length == 0))
            {
                header = false;
                continue;
            }

            if (cells.Length != 3)
            {
                throw new InvalidDataException($"'{line}': a row has three cells (assembly, project, may reference)");
            }

            var edges = cells[2] is "—" or "-" or "none" or ""
                ? []
                : cells[2].Split(',').Select(Unquote).ToList();
            var row = new Row(Unquote(cells[0]), Unquote(cells[1]), edges);
            if (!rows.TryAdd(row.Assembly, row))
            {
                throw new InvalidDataException($"'{row.Assembly}' has two rows");
            }
        }

        if (rows.Count == 0)
        {
            throw new InvalidDataException($"the '{Heading}' section of {markdownPath} has no table");
        }

        var unknown = rows.Values.SelectMany(r => r.MayReference.Where(e => !rows.ContainsKey(e)).Select(e => $"{r.Assembly} → {e}")).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidDataException($"edges to assemblies without a row: {string.Join("; ", unknown)}");
        }

        return new DependencyTable(rows);
    }

    private static string Unquote(string cell) => cell.Trim().Trim('`').Trim();
}
