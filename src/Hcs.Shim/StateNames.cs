// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Shim;

/// <summary>
/// How the monitor names the sockets of its state directory (the container's runtime directory) to the kernel: a Unix
/// socket address holds at most 107 bytes, and the runtime root may be longer. The monitor runs in its state
/// directory (<see cref="Monitor"/> makes it its working directory first), so a socket inside it is named relative to
/// it (<c>shim.sock</c>, <c>exec/3.console</c>, <c>exec/3-in.sock</c>), whatever the length of the directory's path;
/// runc, which the monitor starts, inherits that working directory and reaches the console socket by the same name.
/// </summary>
internal static class StateNames
{
    /// <summary>
    /// <paramref name="path"/> relative to <paramref name="state"/> when it lies inside it, else unchanged (a socket
    /// elsewhere keeps its absolute path, which must then fit in a socket address).
    /// </summary>
    public static string Of(string state, string path)
    {
        var prefix = state.EndsWith('/') ? state : state + "/";
        var full = Path.GetFullPath(path);
        return full.StartsWith(prefix, StringComparison.Ordinal) && full.Length > prefix.Length ? full[prefix.Length..] : path;
    }
}
