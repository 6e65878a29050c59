// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using Hcs.Client;
using Hcs.Schema;
using ComputeSystem = Hcs.Client.ComputeSystem;

namespace Hcs.Ctl;

internal static partial class Verbs
{
    private static Task<ComputeSystem> OpenAsync(VerbContext context, string id) =>
        ComputeSystem.OpenAsync(context.Client!, id, context.Cancellation);

    private static async Task<int> CreateAsync(VerbContext context)
    {
        var (id, path) = (context.Args.Positionals[0], context.Args.Positionals[1]);
        var start = context.Args.Has("start");
        var wait = context.Args.Has("wait");
        if (wait && !start)
        {
            throw new UsageException("--wait needs --start");
        }

        var document = await context.ReadDocumentAsync(path).ConfigureAwait(false);
        ComputeSystem system;
        try
        {
            system = await context.ProgressAsync($"creating {id}", ComputeSystem.CreateAsync(context.Client!, id, document, context.Cancellation)).ConfigureAwait(false);
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_INVALID_JSON)
        {
            return context.Report(id, e, path == "-" ? " (in the document from standard input)" : $" (in {path})");
        }

        await using (system.ConfigureAwait(false))
        {
            if (!wait)
            {
                await WarnIfEndsWithHcsctlAsync(context, system).ConfigureAwait(false);
            }

            if (start)
            {
                await context.ProgressAsync($"starting {id}", system.StartAsync(context.Cancellation)).ConfigureAwait(false);
            }

            if (wait)
            {
                var status = await context.ProgressAsync($"{id} running", system.WaitForExitAsync(context.Cancellation)).ConfigureAwait(false);
                await context.WriteJsonAsync(HcsJson.Serialize(status)).ConfigureAwait(false);
            }
        }

        return HcsCtlExitCodes.Success;
    }

    /// <summary>A system made by <c>--embedded</c>, or one that terminates on last handle close, ends when hcsctl exits: say so.</summary>
    private static async Task WarnIfEndsWithHcsctlAsync(VerbContext context, ComputeSystem system)
    {
        string? why = null;
        if (context.Embedded)
        {
            why = "--embedded: the system lives in this hcsctl process and ends when it exits (use hcsd, or --start --wait)";
        }
        else
        {
            var properties = await system.GetPropertiesAsync([SystemPropertyType.TerminateOnLastHandleClosed], context.Cancellation).ConfigureAwait(false);
            if (properties.TerminateOnLastHandleClosed == true)
            {
                why = "ShouldTerminateOnLastHandleClosed is set: the system is terminated when hcsctl exits (use --start --wait)";
            }
        }

        if (why is not null)
        {
            await context.Error.WriteLineAsync(ErrorLines.Format("create", system.Id, "warning: " + why).AsMemory(), context.Cancellation).ConfigureAwait(false);
        }
    }

    private static Task<int> StartAsync(VerbContext context) =>
        context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            await context.ProgressAsync($"starting {id}", system.StartAsync(context.Cancellation)).ConfigureAwait(false);
        });

    private static Task<int> ShutdownAsync(VerbContext context)
    {
        TimeSpan? timeout = context.Args.Value("timeout") is { } t ? ArgParser.ParseDuration(t, "timeout") : null;
        var force = context.Args.Has("force");
        if (force && timeout is null)
        {
            throw new UsageException("--force needs --timeout");
        }

        return context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            var shutdown = system.ShutDownAsync(null, context.Cancellation);
            if (timeout is null)
            {
                await context.ProgressAsync($"shutting down {id}", shutdown).ConfigureAwait(false);
                return;
            }

            using var stopTimer = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
            var expired = Task.Delay(timeout.Value, context.Console.Time, stopTimer.Token);
            await context.ProgressAsync($"shutting down {id}", Task.WhenAny(shutdown, expired)).ConfigureAwait(false);
            if (!expired.IsCompleted)
            {
                await stopTimer.CancelAsync().ConfigureAwait(false);
            }

            if (shutdown.IsCompleted || !expired.IsCompletedSuccessfully)
            {
                await shutdown.ConfigureAwait(false); // its outcome, or the interrupt
                return;
            }

            var after = string.Create(CultureInfo.InvariantCulture, $"{timeout.Value.TotalSeconds:0.###}s");
            if (!force)
            {
                Observe(shutdown);
                throw new HcsException(HResults.HCS_E_OPERATION_TIMEOUT, OperationLabels.ShutDown, id,
                    result: ResultError.From(HResults.HCS_E_OPERATION_TIMEOUT, $"the system did not stop within {after}; --force terminates it then"));
            }

            await context.ProgressAsync($"terminating {id}", TerminateIgnoringStoppedAsync(system, context.Cancellation)).ConfigureAwait(false);
            Observe(shutdown);
            await context.Error.WriteLineAsync(ErrorLines.Format("shutdown", id, $"did not stop within {after}: terminated").AsMemory(), context.Cancellation).ConfigureAwait(false);
        });
    }

    /// <summary>Lets an abandoned call finish on its own without an unobserved exception.</summary>
    private static void Observe(Task task) =>
        _ = task.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    private static async Task TerminateIgnoringStoppedAsync(ComputeSystem system, CancellationToken cancellationToken)
    {
        try
        {
            await system.TerminateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HcsException e) when (e.HResult == HResults.HCS_E_SYSTEM_ALREADY_STOPPED)
        {
            // Stopped meanwhile: what we wanted.
        }
    }

    private static Task<int> TerminateAsync(VerbContext context) =>
        context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            await context.ProgressAsync($"terminating {id}", system.TerminateAsync(context.Cancellation)).ConfigureAwait(false);
        });

    private static Task<int> PauseAsync(VerbContext context) =>
        context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            await context.ProgressAsync($"pausing {id}", system.PauseAsync(null, context.Cancellation)).ConfigureAwait(false);
        });

    private static Task<int> ResumeAsync(VerbContext context) =>
        context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            var system = await OpenAsync(context, id).ConfigureAwait(false);
            await using var systemScope = system.ConfigureAwait(false);
            await context.ProgressAsync($"resuming {id}", system.ResumeAsync(context.Cancellation)).ConfigureAwait(false);
        });

    private static async Task<int> SaveAsync(VerbContext context)
    {
        var id = context.Args.Positionals[0];
        var path = Path.GetFullPath(context.Args.Positionals[1]);
        var system = await OpenAsync(context, id).ConfigureAwait(false);
        await using var systemScope = system.ConfigureAwait(false);
        var state = (await system.GetPropertiesAsync(null, context.Cancellation).ConfigureAwait(false)).State;
        var pausedHere = false;
        if (state == SystemState.Running)
        {
            await context.ProgressAsync($"pausing {id}", system.PauseAsync(null, context.Cancellation)).ConfigureAwait(false);
            pausedHere = true;
        }

        try
        {
            await context.ProgressAsync($"saving {id} to {path}",
                system.SaveAsync(new SaveOptions { SaveType = SaveType.ToFile, SaveStateFilePath = path }, context.Cancellation)).ConfigureAwait(false);
        }
        catch (Exception) when (pausedHere)
        {
            // Leave the system as we found it, then report the save's failure.
            try
            {
                await system.ResumeAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (HcsException)
            {
                // The save's error is the one to report.
            }

            throw;
        }

        return HcsCtlExitCodes.Success;
    }

    private static Task<int> RemoveAsync(VerbContext context)
    {
        var force = context.Args.Has("force");
        return context.ForEachIdAsync(context.Args.Positionals, async id =>
        {
            ComputeSystem system;
            try
            {
                system = await OpenAsync(context, id).ConfigureAwait(false);
            }
            catch (HcsException e) when (force && e.HResult == HResults.HCS_E_SYSTEM_NOT_FOUND)
            {
                return;
            }

            await using (system.ConfigureAwait(false))
            {
                var state = (await system.GetPropertiesAsync(null, context.Cancellation).ConfigureAwait(false)).State;
                if (state is SystemState.Running or SystemState.Paused && !force)
                {
                    throw new HcsException(HResults.HCS_E_INVALID_STATE, OperationLabels.RemoveSystem, id,
                        result: ResultError.From(HResults.HCS_E_INVALID_STATE, $"the system is {state}: shut it down first, or use --force to terminate it"));
                }

                // A Created system never stops by itself: terminating it is how it goes away.
                if (state != SystemState.Stopped)
                {
                    await context.ProgressAsync($"terminating {id}", TerminateIgnoringStoppedAsync(system, context.Cancellation)).ConfigureAwait(false);
                }
            }

            // Our handle is closed; the system is gone unless another client still holds it open.
            var left = await ComputeSystem.EnumerateAsync(context.Client!, new SystemQuery { Ids = [id] }, context.Cancellation).ConfigureAwait(false);
            if (left.Count > 0)
            {
                await context.Error.WriteLineAsync(ErrorLines.Format("rm", id,
                    "stopped; another client still holds it open, and it goes away when they close it").AsMemory(), context.Cancellation).ConfigureAwait(false);
            }
        });
    }

    private static async Task<int> ModifyAsync(VerbContext context)
    {
        var (id, path) = (context.Args.Positionals[0], context.Args.Positionals[1]);
        var request = await context.ReadDocumentAsync(path).ConfigureAwait(false);
        var handle = await context.Session.OpenSystemAsync(id, context.Cancellation).ConfigureAwait(false);
        await using (handle.ConfigureAwait(false))
        {
            try
            {
                await context.ProgressAsync($"modifying {id}", handle.ModifyAsync(request, context.Cancellation)).ConfigureAwait(false);
            }
            catch (HcsException e) when (e.HResult == HResults.HCS_E_INVALID_JSON)
            {
                return context.Report(id, e, path == "-" ? " (in the document from standard input)" : $" (in {path})");
            }
        }

        return HcsCtlExitCodes.Success;
    }

    private static async Task<int> GrantAsync(VerbContext context)
    {
        var (id, who) = (context.Args.Positionals[0], context.Args.Positionals[1]);
        var uid = uint.TryParse(who, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
            ? number
            : LookUpUser(who);
        await context.Session.GrantAccessAsync(id, uid, context.Cancellation).ConfigureAwait(false);
        return HcsCtlExitCodes.Success;
    }

    /// <summary>The uid of host user <paramref name="name"/>, looked up through NSS (<see cref="Hcs.Linux.HostAccounts"/>).</summary>
    private static uint LookUpUser(string name)
    {
        try
        {
            return Hcs.Linux.HostAccounts.UserByName(name)?.Uid ?? throw new LocalException($"no user '{name}' on this host (give a uid instead)");
        }
        catch (IOException e)
        {
            throw new LocalException($"cannot look up user '{name}': {e.Message}", e);
        }
    }
}
