// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Ctl;

// A small hand parser rather than System.CommandLine: hcsctl needs exact control over the error line and exit code
// of a usage error (one line, then the verb's usage, exit 2), docker-style `exec ID CMD ARGS...` where everything
// from the command on is the process's argv (no `--` required), and no dependency whose API is still moving
// between majors; the grammar is small (long/short options, bundled short flags, `--name=value`, `--`).

/// <summary>An option of a verb: <c>--name</c>, optionally <c>-c</c>, taking a value when <see cref="Value"/> is set.</summary>
internal sealed record OptionSpec(string Name, char? Short, string? Value, string Help, bool Repeatable = false)
{
    public bool TakesValue => Value is not null;

    public string Spelling => (Short is { } c ? $"-{c}, " : "    ") + "--" + Name + (Value is null ? "" : " " + Value);
}

/// <summary>A command line that does not fit the verb's grammar; reported with the verb's usage, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The options and positional arguments of one verb.</summary>
internal sealed class ParsedArgs
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);

    /// <summary>Positional arguments (ids, paths) in order.</summary>
    public List<string> Positionals { get; } = [];

    /// <summary>For <c>exec</c>: the command and its arguments, verbatim.</summary>
    public List<string> Command { get; } = [];

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>The last value given for <paramref name="name"/>, or null.</summary>
    public string? Value(string name) => _values.TryGetValue(name, out var values) ? values[^1] : null;

    /// <summary>Every value given for a repeatable option, in order.</summary>
    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out var values) ? values : [];

    public void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out var values))
        {
            _values[name] = values = [];
        }

        values.Add(value);
    }
}

/// <summary>Parses one verb's arguments.</summary>
internal static class ArgParser
{
    /// <summary>
    /// Parses <paramref name="args"/> against <paramref name="options"/>. When <paramref name="commandAfter"/> is set, the
    /// positional that follows that many positionals starts <see cref="ParsedArgs.Command"/>: it and everything after it
    /// are taken verbatim. <c>--</c> ends the options. A lone <c>-</c> is a positional (standard input).
    /// </summary>
    public static ParsedArgs Parse(IReadOnlyList<string> args, IReadOnlyList<OptionSpec> options, int? commandAfter = null)
    {
        var parsed = new ParsedArgs();
        var optionsEnded = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (parsed.Command.Count > 0)
            {
                parsed.Command.Add(arg);
                continue;
            }

            if (optionsEnded || arg == "-" || !arg.StartsWith('-'))
            {
                if (commandAfter is { } n && parsed.Positionals.Count == n)
                {
                    parsed.Command.Add(arg);
                }
                else
                {
                    parsed.Positionals.Add(arg);
                }

                continue;
            }

            if (arg == "--")
            {
                optionsEnded = true;
                continue;
            }

            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                var eq = arg.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? arg[2..] : arg[2..eq];
                var option = options.FirstOrDefault(o => o.Name == name) ?? throw new UsageException($"unknown option '--{name}'");
                if (!option.TakesValue)
                {
                    if (eq >= 0)
                    {
                        throw new UsageException($"option '--{name}' takes no value");
                    }

                    parsed.Add(option.Name, "");
                    continue;
                }

                parsed.Add(option.Name, eq >= 0 ? arg[(eq + 1)..] : NextValue(args, ref i, "--" + name));
                continue;
            }

            // A bundle of short options: -it, -e K=V, -eK=V.
            for (var j = 1; j < arg.Length; j++)
            {
                var c = arg[j];
                var option = options.FirstOrDefault(o => o.Short == c) ?? throw new UsageException($"unknown option '-{c}'");
                if (!option.TakesValue)
                {
                    parsed.Add(option.Name, "");
                    continue;
                }

                parsed.Add(option.Name, j + 1 < arg.Length ? arg[(j + 1)..] : NextValue(args, ref i, "-" + c));
                break;
            }
        }

        return parsed;
    }

    private static string NextValue(IReadOnlyList<string> args, ref int i, string spelling)
    {
        if (i + 1 >= args.Count)
        {
            throw new UsageException($"option '{spelling}' needs a value");
        }

        return args[++i];
    }

    /// <summary>Parses a duration: seconds (<c>30</c>, <c>1.5</c>) or with a unit (<c>500ms</c>, <c>30s</c>, <c>2m</c>, <c>1h</c>).</summary>
    public static TimeSpan ParseDuration(string text, string option)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var value)
            || value * scale > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            throw new UsageException($"option '--{option}': '{text}' is not a duration (seconds, or with a unit: 500ms, 30s, 2m, 1h)");
        }

        return TimeSpan.FromSeconds(value * scale);
    }
}
