// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Runc;

/// <summary>The <c>hcs-shim monitor</c> processes on the host, found by their command lines (<see cref="HostProcess"/>).</summary>
internal static class ShimMonitors
{
    /// <summary>
    /// Every live <c>hcs-shim monitor</c> on the host whose runtime directory (<c>--state</c>) is directly under
    /// <paramref name="runtimeRoot"/>, by that directory.
    /// </summary>
    public static Dictionary<string, HostProcess> Under(string runtimeRoot)
    {
        var found = new Dictionary<string, HostProcess>(StringComparer.Ordinal);
        foreach (var pid in HostProcess.AllPids())
        {
            var args = HostProcess.CommandLineOf(pid);
            if (args.Count < 3 || args[1] != "monitor" || Path.GetFileName(args[0]) != "hcs-shim")
            {
                continue;
            }

            // Option and value pairs, as the monitor reads them: an id may itself be spelt "--state".
            string? state = null;
            for (var i = 2; i + 1 < args.Count; i += 2)
            {
                if (args[i] == "--state")
                {
                    state = args[i + 1];
                }
            }

            if (state is not null && Path.GetDirectoryName(state) == runtimeRoot.TrimEnd('/') && HostProcess.Of(pid) is { } process)
            {
                found[state] = process;
            }
        }

        return found;
    }
}
