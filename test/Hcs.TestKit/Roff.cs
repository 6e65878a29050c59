// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.RegularExpressions;

namespace Hcs.TestKit;

/// <summary>The words of a hand-written man page (roff), for tests that check it documents what a program accepts.</summary>
public static partial class Roff
{
    /// <summary>
    /// The page's text without its requests' names, font changes and escapes: <c>.BI \-\-socket " PATH"</c> becomes
    /// <c>--socket PATH</c>, <c>\fB\-f\fR</c> becomes <c>-f</c>. Comment lines are dropped; each line ends with a space.
    /// </summary>
    public static string PlainText(string roff)
    {
        ArgumentNullException.ThrowIfNull(roff);
        var lines = roff.Split('\n').Where(l => !l.StartsWith(".\\\"", StringComparison.Ordinal)).Select(Line);
        return string.Concat(lines.Select(l => Unescape(l) + " "));
    }

    // A text line as it is; a request without its name, its arguments joined as roff joins them: the font macros with
    // two fonts (.BR, .BI, .IR, ...) with nothing between them, the others with a space.
    private static string Line(string line)
    {
        if (!line.StartsWith('.'))
        {
            return line;
        }

        var name = Request().Match(line).Value;
        var arguments = Argument().Matches(line[name.Length..]).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Value);
        return string.Join(name.Trim() is ".BR" or ".BI" or ".IR" or ".RB" or ".IB" or ".RI" ? "" : " ", arguments);
    }

    private static string Unescape(string text) =>
        Font().Replace(text, "").Replace("\\-", "-", StringComparison.Ordinal).Replace("\\c", "", StringComparison.Ordinal);

    /// <summary>
    /// The page's subsections (<c>.SS NAME</c>) by name, each with its <see cref="PlainText"/> up to the next
    /// <c>.SS</c> or <c>.SH</c>.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Subsections(string roff)
    {
        ArgumentNullException.ThrowIfNull(roff);
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        string? name = null;
        var body = new List<string>();
        foreach (var line in roff.Split('\n').Append(".SH END"))
        {
            if (line.StartsWith(".SS ", StringComparison.Ordinal) || line.StartsWith(".SH ", StringComparison.Ordinal))
            {
                if (name is not null)
                {
                    sections[name] = PlainText(string.Join('\n', body));
                }

                name = line.StartsWith(".SS ", StringComparison.Ordinal) ? line[4..].Trim().Trim('"') : null;
                body.Clear();
            }
            else
            {
                body.Add(line);
            }
        }

        return sections;
    }

    [GeneratedRegex(@"^\.[A-Za-z]+\s?")]
    private static partial Regex Request();

    [GeneratedRegex(@"\\f[BIRP]|\\\(..|\\&")]
    private static partial Regex Font();

    // One argument of a request: "quoted" (group 1) or a word.
    [GeneratedRegex(@"""([^""]*)""?|[^\s""]+")]
    private static partial Regex Argument();
}
