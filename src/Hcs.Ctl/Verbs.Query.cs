// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;
using Hcs.Client;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Ctl;

internal static partial class Verbs
{
    private static readonly string[] s_listHeader = ["ID", "TYPE", "STATE", "OWNER", "UPTIME"];

    private static async Task<int> ListAsync(VerbContext context)
    {
        var types = context.Args.Values("type").Select(t => Enum.TryParse<SystemType>(t, ignoreCase: true, out var type) && !char.IsAsciiDigit(t[0])
            ? type.ToString()
            : throw new UsageException($"--type: '{t}' is not a system type (VirtualMachine or Container)")).ToList();
        var owners = context.Args.Values("owner").ToList();
        var query = types.Count > 0 || owners.Count > 0
            ? new SystemQuery { Types = types.Count > 0 ? types : null, Owners = owners.Count > 0 ? owners : null }
            : null;

        if (context.Args.Has("json"))
        {
            var json = await context.Session.EnumerateSystemsAsync(query is null ? null : HcsJson.Serialize(query), context.Cancellation).ConfigureAwait(false);
            await context.WriteJsonAsync(json).ConfigureAwait(false);
            return HcsCtlExitCodes.Success;
        }

        var systems = (await ComputeSystem.EnumerateAsync(context.Client!, query, context.Cancellation).ConfigureAwait(false))
            .OrderBy(p => p.Id, StringComparer.Ordinal)
            .ToList();
        if (context.Args.Has("quiet"))
        {
            foreach (var system in systems)
            {
                await context.Out.WriteLineAsync(system.Id.AsMemory(), context.Cancellation).ConfigureAwait(false);
            }

            return HcsCtlExitCodes.Success;
        }

        var rows = new List<string[]> { s_listHeader };
        foreach (var system in systems)
        {
            rows.Add([
                system.Id ?? "-",
                system.SystemType?.ToString() ?? "-",
                system.State?.ToString() ?? "-",
                string.IsNullOrEmpty(system.Owner) ? "-" : system.Owner,
                await UptimeAsync(context, system).ConfigureAwait(false),
            ]);
        }

        await context.Out.WriteAsync(Table(rows).AsMemory(), context.Cancellation).ConfigureAwait(false);
        return HcsCtlExitCodes.Success;
    }

    /// <summary>How long a running or paused system has been up (Statistics.Uptime100ns), or <c>-</c>.</summary>
    private static async Task<string> UptimeAsync(VerbContext context, Properties system)
    {
        if (system.Id is null || system.State is not (SystemState.Running or SystemState.Paused))
        {
            return "-";
        }

        try
        {
            var handle = await OpenAsync(context, system.Id).ConfigureAwait(false);
            await using var handleScope = handle.ConfigureAwait(false);
            var properties = await handle.GetPropertiesAsync([SystemPropertyType.Statistics], context.Cancellation).ConfigureAwait(false);
            return properties.Statistics?.Uptime100ns is { } ticks ? FormatDuration(TimeSpan.FromTicks((long)Math.Min(ticks, long.MaxValue))) : "-";
        }
        catch (HcsException)
        {
            return "-"; // Gone, or not ours to look at, since the listing.
        }
    }

    /// <summary><c>42s</c>, <c>5m07s</c>, <c>3h02m</c>, <c>12d04h</c>.</summary>
    internal static string FormatDuration(TimeSpan span) => span switch
    {
        { TotalMinutes: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalSeconds}s"),
        { TotalHours: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}m{span.Seconds:00}s"),
        { TotalDays: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{span.Hours}h{span.Minutes:00}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalDays}d{span.Hours:00}h"),
    };

    /// <summary>Left-aligned columns separated by three spaces; the last column is not padded.</summary>
    internal static string Table(IReadOnlyList<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++)
            {
                text.Append(c == row.Length - 1 ? row[c] : row[c].PadRight(widths[c] + 3));
            }

            text.Append('\n');
        }

        return text.ToString();
    }

    private static async Task<int> InspectAsync(VerbContext context)
    {
        var id = context.Args.Positionals[0];
        var query = QueryOption<SystemPropertyType>(context, types => HcsJson.Serialize(new SystemPropertyQuery { PropertyTypes = types }));
        var handle = await context.Session.OpenSystemAsync(id, context.Cancellation).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            var json = await handle.GetPropertiesAsync(query, context.Cancellation).ConfigureAwait(false);
            await context.WriteJsonAsync(json).ConfigureAwait(false);
        }

        return HcsCtlExitCodes.Success;
    }

    private static async Task<int> ServiceAsync(VerbContext context)
    {
        var query = QueryOption<ServicePropertyType>(context, types => HcsJson.Serialize(new ServicePropertyQuery { PropertyTypes = types }));
        var json = await context.Session.GetServicePropertiesAsync(query, context.Cancellation).ConfigureAwait(false);
        await context.WriteJsonAsync(json).ConfigureAwait(false);
        return HcsCtlExitCodes.Success;
    }

    /// <summary>The query of <c>--query JSON</c> (verbatim) or <c>--type A,B</c> (built), or null.</summary>
    private static string? QueryOption<TType>(VerbContext context, Func<IReadOnlyList<TType>, string> build) where TType : struct, Enum
    {
        var query = context.Args.Value("query");
        var types = context.Args.Value("type");
        if (query is not null && types is not null)
        {
            throw new UsageException("give either --query or --type, not both");
        }

        if (types is null)
        {
            return query;
        }

        var list = new List<TType>();
        foreach (var name in types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (char.IsAsciiDigit(name[0]) || !Enum.TryParse<TType>(name, ignoreCase: true, out var type))
            {
                throw new UsageException($"--type: '{name}' is not one of {string.Join(", ", Enum.GetNames<TType>())}");
            }

            list.Add(type);
        }

        return build(list);
    }
}
