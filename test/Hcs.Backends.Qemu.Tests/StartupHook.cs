// Copyright (c) hcs contributors. Licensed under the MIT licence.

/// <summary>The .NET startup hook of the helper process (see <see cref="Hcs.Backends.Qemu.Tests.AdoptionHelper"/>); the runtime requires this name, in no namespace.</summary>
#pragma warning disable CA1050 // The runtime looks the hook up by its unqualified name.
public static class StartupHook
#pragma warning restore CA1050
{
    /// <summary>Called by the runtime before Main when <c>DOTNET_STARTUP_HOOKS</c> names this assembly.</summary>
    public static void Initialize() => Hcs.Backends.Qemu.Tests.AdoptionHelper.RunIfRequested();
}
