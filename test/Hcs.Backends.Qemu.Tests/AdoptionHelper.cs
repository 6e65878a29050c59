// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using Hcs.Engine.Backends;

namespace Hcs.Backends.Qemu.Tests;

/// <summary>
/// A stand-in for an hcsd that gets SIGKILLed: this test assembly re-executed with <see cref="RootVariable"/> set
/// creates and starts one VM with a <see cref="QemuBackend"/>, prints each runtime facts report
/// (<see cref="FactsPrefix"/>) and then <see cref="Started"/>, and waits to be killed. A .NET startup hook
/// (<c>DOTNET_STARTUP_HOOKS</c>) runs it before the test framework's entry point, so the helper costs one .NET
/// start-up and no test discovery.
/// </summary>
internal static class AdoptionHelper
{
    public const string RootVariable = "HCS_QEMU_ADOPTION_HELPER_ROOT";
    public const string IdVariable = "HCS_QEMU_ADOPTION_HELPER_ID";
    public const string FactsPrefix = "FACTS ";
    public const string Started = "STARTED";

    /// <summary>Starts the helper for VM <paramref name="id"/> under <paramref name="runtimeRoot"/>, stdout and stderr redirected.</summary>
    public static Process Start(string runtimeRoot, string id)
    {
        var host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(typeof(AdoptionHelper).Assembly.Location);
        }

        // A startup hook, not a module initializer: the helper runs async code on pool threads, which would wait
        // forever for a module initializer that blocks to return.
        start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(AdoptionHelper).Assembly.Location;
        start.Environment[RootVariable] = runtimeRoot;
        start.Environment[IdVariable] = id;
        return Process.Start(start)!;
    }

    /// <summary>Runs the helper if this process was started as one (from <see cref="StartupHook"/>); never returns then.</summary>
    internal static void RunIfRequested()
    {
        if (Environment.GetEnvironmentVariable(RootVariable) is not { Length: > 0 } root)
        {
            return;
        }

        try
        {
#pragma warning disable VSTHRD002 // A process entry point with nothing else running: blocking is fine.
            RunAsync(root, Environment.GetEnvironmentVariable(IdVariable)!).GetAwaiter().GetResult();
#pragma warning restore VSTHRD002
        }
        catch (Exception e)
        {
            Console.Out.WriteLine($"ERROR {e}");
            Environment.Exit(1);
        }
    }

    private static async Task RunAsync(string root, string id)
    {
        var sink = new RecordingSink { OnFacts = json => Console.Out.WriteLine(FactsPrefix + json) };
        var backend = new QemuBackend(new QemuSettings(), root);
        var system = await backend.CreateAsync(new BackendSystemContext(id, TestGuest.Document("idle"), sink, TimeProvider.System), CancellationToken.None);
        await system.StartAsync(CancellationToken.None);
        Console.Out.WriteLine(Started);
        Console.Out.Flush();
        await Task.Delay(Timeout.Infinite);
    }
}

