// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux;

/// <summary>Identifies the Linux host layer (the one assembly outside hcs-shim that declares native calls).</summary>
public static class LinuxLayer
{
    /// <summary>The assembly's name, as architecture rules refer to it.</summary>
    public const string AssemblyName = "Hcs.Linux";
}
