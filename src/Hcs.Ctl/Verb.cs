// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;

namespace Hcs.Ctl;

/// <summary>
/// One hcsctl verb: its grammar (arguments and options), its help text and what it runs. Argument names in brackets
/// are optional, a name ending in <c>...</c> repeats.
/// </summary>
internal sealed record Verb(
    string Name,
    string Summary,
    string[] Arguments,
    OptionSpec[] Options,
    Func<VerbContext, Task<int>> Run,
    string? Details = null,
    string[]? Examples = null)
{
    /// <summary>For <c>exec</c>: the command starts after this many positionals.</summary>
    public int? CommandAfter { get; init; }

    /// <summary>False for verbs that never talk to the service.</summary>
    public bool NeedsService { get; init; } = true;

    /// <summary>True when Ctrl-C is the verb's own business (exec forwards it) rather than "stop waiting".</summary>
    public bool HandlesInterrupts { get; init; }

    public int RequiredArguments => Arguments.Count(a => !a.StartsWith('['));

    public bool Variadic => Arguments.Any(a => a.Contains("...", StringComparison.Ordinal));

    public string Synopsis => $"hcsctl {Name}{(Options.Length > 0 ? " [OPTIONS]" : "")}{string.Concat(Arguments.Select(a => " " + a))}";

    /// <summary>The verb's help: synopsis, summary, details, options (its own and the global ones) and examples.</summary>
    public string Help(IReadOnlyList<OptionSpec> globals)
    {
        var text = new StringBuilder();
        text.Append("Usage: ").AppendLine(Synopsis).AppendLine().AppendLine(Summary);
        if (Details is not null)
        {
            text.AppendLine().AppendLine(Details);
        }

        AppendOptions(text, "Options:", Options);
        AppendOptions(text, "Global options:", globals);
        if (Examples is { Length: > 0 })
        {
            text.AppendLine().AppendLine("Examples:");
            foreach (var example in Examples)
            {
                text.Append("  ").AppendLine(example);
            }
        }

        return text.ToString();
    }

    /// <summary>The short usage printed after a usage error.</summary>
    public string Usage => $"Usage: {Synopsis}\nRun 'hcsctl {Name} --help' for more.\n";

    internal static void AppendOptions(StringBuilder text, string title, IReadOnlyList<OptionSpec> options)
    {
        if (options.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine(title);
        var width = options.Max(o => o.Spelling.Length);
        foreach (var option in options)
        {
            text.Append("  ").Append(option.Spelling.PadRight(width)).Append("  ").AppendLine(option.Help);
        }
    }
}
