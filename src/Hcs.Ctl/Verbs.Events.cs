// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading.Channels;
using Hcs.Client;
using Hcs.Contracts;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Ctl;

internal static partial class Verbs
{
    /// <summary>How often <c>events --follow</c> looks for systems created since.</summary>
    internal static TimeSpan EventsPollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    private sealed record EventLine(DateTimeOffset Time, string SystemId, HcsEventRecord Record);

    private static async Task<int> EventsAsync(VerbContext context)
    {
        var follow = context.Args.Has("follow");
        var json = context.Args.Has("json");
        var named = context.Args.Positionals.Distinct(StringComparer.Ordinal).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
        if (context.Args.Value("timeout") is { } timeout)
        {
            stop.CancelAfter(ArgParser.ParseDuration(timeout, "timeout"));
        }

        // Every watcher writes into one channel; one loop prints, so lines never interleave.
        var lines = Channel.CreateUnbounded<EventLine>(new UnboundedChannelOptions { SingleReader = true });
        var watchers = new List<Task>();
        var watching = new HashSet<string>(StringComparer.Ordinal); // ids being watched now
        var done = new HashSet<(string, Guid?)>(); // systems already watched to their exit (id, RuntimeId)
        var exitCode = HcsCtlExitCodes.Success;
        HcsException? lost = null;

        async Task WatchAsync(ISystemHandle handle, Guid? runtimeId)
        {
            var id = handle.Id;
            try
            {
                await using (handle.ConfigureAwait(false))
                {
                    var events = handle.ReadEventsAsync(stop.Token);
                    context.Console.EventsSubscribed?.Invoke(id);
                    await foreach (var record in events.ConfigureAwait(false))
                    {
                        await lines.Writer.WriteAsync(new EventLine(context.Console.Time.GetUtcNow(), id, record), stop.Token).ConfigureAwait(false);
                        if (record.Type is HcsEventType.SystemExited or HcsEventType.ServiceDisconnect)
                        {
                            break;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // --timeout, Ctrl-C.
            }
            catch (HcsException e) when (stop.IsCancellationRequested && e.HResult == HResults.ERROR_CANCELLED)
            {
                // The same, as the service reports it.
            }
            finally
            {
                lock (watching)
                {
                    watching.Remove(id);
                    done.Add((id, runtimeId));
                }
            }
        }

        // Opens and starts watching system `id` unless it is watched already; false when it is not there.
        async Task<bool> TryWatchAsync(string id, Guid? runtimeId)
        {
            lock (watching)
            {
                if (watching.Contains(id) || done.Contains((id, runtimeId)))
                {
                    return true;
                }

                watching.Add(id);
            }

            ISystemHandle handle;
            try
            {
                handle = await context.Session.OpenSystemAsync(id, stop.Token).ConfigureAwait(false);
            }
            catch
            {
                lock (watching)
                {
                    watching.Remove(id);
                }

                throw;
            }

            watchers.Add(WatchAsync(handle, runtimeId));
            return true;
        }

        // Systems listed now (all, or those named) that can still raise events.
        async Task DiscoverAsync()
        {
            var query = named.Count > 0 ? HcsJson.Serialize(new SystemQuery { Ids = named }) : null;
            var listed = HcsJson.Deserialize<IReadOnlyList<Properties>>(
                await context.Session.EnumerateSystemsAsync(query, stop.Token).ConfigureAwait(false));
            foreach (var system in listed)
            {
                if (system.Id is null || system.State == SystemState.Stopped)
                {
                    continue;
                }

                try
                {
                    await TryWatchAsync(system.Id, system.RuntimeId).ConfigureAwait(false);
                }
                catch (HcsException e) when (e.HResult is HResults.HCS_E_SYSTEM_NOT_FOUND or HResults.HCS_E_ACCESS_DENIED)
                {
                    // Gone since the listing, or not ours to watch.
                }
            }
        }

        var printer = PrintEventsAsync(context, lines.Reader, json);
        try
        {
            if (follow)
            {
                while (!stop.IsCancellationRequested)
                {
                    await DiscoverAsync().ConfigureAwait(false);
                    await Task.Delay(EventsPollInterval, context.Console.Time, stop.Token).ConfigureAwait(false);
                }
            }
            else if (named.Count > 0)
            {
                // Named systems are watched even when stopped (their SystemExited arrives at once); unknown ones are errors.
                foreach (var id in named)
                {
                    try
                    {
                        await TryWatchAsync(id, null).ConfigureAwait(false);
                    }
                    catch (HcsException e)
                    {
                        exitCode = Math.Max(exitCode, context.Report(id, e));
                    }
                }
            }
            else
            {
                await DiscoverAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException || (stop.IsCancellationRequested && e is HcsException { HResult: HResults.ERROR_CANCELLED }))
        {
            // --timeout or Ctrl-C while looking for systems.
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_SERVICE_DISCONNECT)
        {
            lost = e; // The service went away while looking for systems: the watchers hear it too.
        }
        finally
        {
            await Task.WhenAll(watchers).ConfigureAwait(false);
            lines.Writer.Complete();
        }

        var disconnected = await printer.ConfigureAwait(false);
        if (disconnected || lost is not null)
        {
            if (!disconnected)
            {
                context.Report(null, lost!);
            }

            return HcsCtlExitCodes.ServiceUnavailable;
        }

        return context.Cancellation.IsCancellationRequested && !follow ? HcsCtlExitCodes.Interrupted : exitCode;
    }

    /// <summary>Prints event lines until the channel completes; true if the service went away.</summary>
    private static async Task<bool> PrintEventsAsync(VerbContext context, ChannelReader<EventLine> lines, bool json)
    {
        var disconnected = false;
        await foreach (var line in lines.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            disconnected |= line.Record.Type == HcsEventType.ServiceDisconnect;
            await context.Out.WriteLineAsync((json ? EventJson(line) : EventText(line)).AsMemory(), CancellationToken.None).ConfigureAwait(false);
            await context.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return disconnected;
    }

    /// <summary>The type's documented name (<c>SystemExited</c>), or its number when it has none.</summary>
    private static string TypeName(HcsEventType type) =>
        Enum.IsDefined(type) ? type.ToString() : string.Create(CultureInfo.InvariantCulture, $"0x{(uint)type:X8}");

    private static string EventText(EventLine line)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{line.Time.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ}  {line.SystemId}  {TypeName(line.Record.Type)}");
        return line.Record.EventData is { Length: > 0 } data ? text + "  " + JsonText.Compact(data) : text;
    }

    private static string EventJson(EventLine line)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("Time", line.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            writer.WriteString("SystemId", line.SystemId);
            writer.WriteString("Type", TypeName(line.Record.Type));
            writer.WritePropertyName("EventData");
            if (line.Record.EventData is { Length: > 0 } data)
            {
                try
                {
                    using var document = JsonDocument.Parse(data);
                    document.WriteTo(writer);
                }
                catch (JsonException)
                {
                    writer.WriteStringValue(data);
                }
            }
            else
            {
                writer.WriteNullValue();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
