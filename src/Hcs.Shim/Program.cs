// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Runtime.Versioning;
using Hcs.Shim.Protocol;

[assembly: SupportedOSPlatform("linux")]

namespace Hcs.Shim;

/// <summary>
/// Entry point: <c>hcs-shim monitor …</c>, <c>hcs-shim init</c>, <c>hcs-shim launch …</c> or <c>hcs-shim --version</c>
/// (docs/shim-protocol.md).
/// </summary>
internal static class Program
{
    private const string Usage = "usage: hcs-shim monitor --id ID --bundle DIR --runc PATH --runc-root DIR --state DIR | hcs-shim init"
        + " | hcs-shim launch --log FILE -- PROGRAM [ARG...] | hcs-shim --version";

    private static async Task<int> Main(string[] args)
    {
        if (args is ["init"])
        {
            return await Init.RunAsync().ConfigureAwait(false);
        }

        if (args is ["--version"])
        {
            // The control socket's protocol version (the one line a caller can check without starting a monitor).
            _ = Native.WriteAll(1, System.Text.Encoding.UTF8.GetBytes(
                string.Create(CultureInfo.InvariantCulture, $"hcs-shim shim-protocol {ShimProtocol.ProtocolVersion}\n")));
            return 0;
        }

        if (args is ["launch", ..])
        {
            return Launch.Run(args.AsSpan(1));
        }

        if (args.Length > 0 && args[0] == "monitor" && ParseMonitor(args.AsSpan(1)) is { } options)
        {
            using var monitor = new Monitor(options);
            return await monitor.RunAsync().ConfigureAwait(false);
        }

        Native.Log(Usage);
        return 2;
    }

    /// <summary>The options of <c>hcs-shim monitor</c> (after the verb); null (with a message on stderr) when they are not valid.</summary>
    internal static MonitorOptions? ParseMonitor(ReadOnlySpan<string> args)
    {
        string? id = null, bundle = null, runc = null, runcRoot = null, state = null;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            string value = args[i + 1];
            switch (args[i])
            {
                case "--id":
                    id = value;
                    break;
                case "--bundle":
                    bundle = Path.GetFullPath(value);
                    break;
                case "--runc":
                    runc = value;
                    break;
                case "--runc-root":
                    runcRoot = Path.GetFullPath(value);
                    break;
                case "--state":
                    state = Path.GetFullPath(value);
                    break;
                default:
                    Native.Log($"unknown option {args[i]}");
                    return null;
            }
        }

        if (args.Length % 2 != 0 || id is null || bundle is null || runc is null || runcRoot is null || state is null)
        {
            return null;
        }

        return new MonitorOptions(id, bundle, runc, runcRoot, state);
    }
}
