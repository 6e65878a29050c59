// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.CompilerServices;
using Hcs.Contracts;
using Hcs.Schema;

namespace Hcs.Client;

/// <summary>
/// Where a package that can run the compute engine inside this process offers it to
/// <see cref="HcsClient.Connect(HcsConnectOptions?)"/>. Hcs.Client is only a client: it reaches <c>hcsd</c> and cannot
/// build an engine. <see cref="HostPackage"/> (<c>Hcs.Host</c>) registers its engine here from a module initializer,
/// so an application that references both connects exactly as one that embeds on purpose; an application that
/// references only Hcs.Client gets <c>HCS_E_SERVICE_NOT_AVAILABLE</c> naming that package when it would embed.
/// </summary>
/// <remarks>
/// A referenced assembly is loaded only when one of its types is first used, so the host package's module initializer
/// may not have run when <c>Connect</c> needs it. <see cref="Find"/> then loads it by the constant name
/// <see cref="HostType"/>: <see cref="Type.GetType(string, bool)"/> with a literal is understood by the trimmer and by
/// NativeAOT (the type is kept when the assembly is part of the application, and resolves to null when it is not), so
/// this needs no unbounded reflection and no trimming annotation beyond the constant.
/// </remarks>
public static class HcsEmbedding
{
    /// <summary>The package (and assembly) that embeds an engine in this process.</summary>
    public const string HostPackage = "Hcs.Host";

    /// <summary>The host package's type whose module registers the engine (assembly-qualified, a constant for the trimmer).</summary>
    public const string HostType = "Hcs.Host.EmbeddedHcs, " + HostPackage;

    private static Func<IComputeService>? s_createEngine;

    /// <summary>True when an engine can be embedded in this process (the host package is part of the application).</summary>
    public static bool IsAvailable => Find() is not null;

    /// <summary>
    /// Makes <paramref name="createEngine"/> the engine <see cref="HcsClient.Connect(HcsConnectOptions?)"/> embeds. It
    /// is called once per embedding client, which owns (and disposes, when it is <see cref="IAsyncDisposable"/>) what
    /// it returns. The last registration wins.
    /// </summary>
    public static void Register(Func<IComputeService> createEngine)
    {
        ArgumentNullException.ThrowIfNull(createEngine);
        Volatile.Write(ref s_createEngine, createEngine);
    }

    /// <summary>The registered engine factory; loads the host package first when it is referenced but not yet loaded.</summary>
    internal static Func<IComputeService>? Find()
    {
        if (Volatile.Read(ref s_createEngine) is { } registered)
        {
            return registered;
        }

        if (Type.GetType(HostType, throwOnError: false) is { } host)
        {
            RuntimeHelpers.RunModuleConstructor(host.Module.ModuleHandle);
        }

        return Volatile.Read(ref s_createEngine);
    }

    /// <summary>
    /// The error of a client that would embed an engine without the host package: <c>HCS_E_SERVICE_NOT_AVAILABLE</c>,
    /// naming <see cref="HostPackage"/>; <paramref name="socket"/> is the hcsd socket that was looked for, if any.
    /// </summary>
    internal static HcsException NotAvailable(string? socket)
    {
        var why = socket is null ? "an embedded engine was asked for" : $"no hcsd is listening at {socket}";
        return new HcsException(HResults.HCS_E_SERVICE_NOT_AVAILABLE, "HcsClient.Connect", result: ResultError.From(
            HResults.HCS_E_SERVICE_NOT_AVAILABLE,
            $"{why}, and this application cannot embed an engine: Hcs.Client only talks to hcsd; reference the {HostPackage} package to embed one"));
    }
}
