// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Client.EmbedProbe;
using Hcs.Schema;

// usage: hcs-embed-probe SOCKET MODE...   For each mode (Auto, Embedded, Daemon), connects with HcsClient.Connect and
// prints "MODE: daemon|embedded PROPERTIES-OK" or "MODE: failed HRESULT_NAME: message", then whether Hcs.Host is
// loaded by then. Nothing names a Hcs.Host type before Connect needs one.
Console.WriteLine($"host loaded before connect: {HostAssemblyLoaded()}");
foreach (var mode in args.Skip(1).Select(m => Enum.Parse<HcsServiceMode>(m, ignoreCase: true)))
{
    string result;
    try
    {
        await using var client = HcsClient.Connect(new HcsConnectOptions { Socket = args[0], Mode = mode, ClientName = "embed-probe" });
        var properties = await client.Session.GetServicePropertiesAsync(null, CancellationToken.None).ConfigureAwait(false);
        result = $"{(client.IsDaemon ? "daemon" : "embedded")} {properties.Contains("SupportedSchemaVersions", StringComparison.Ordinal)}";
    }
    catch (HcsException e)
    {
        result = $"failed {e.HResultName}";
    }

    Console.WriteLine($"{mode}: {result} | host loaded: {HostAssemblyLoaded()}");
}

if (HostAssemblyLoaded() && OperatingSystem.IsLinux())
{
    EmbeddedRuntime.RemoveEmptyDirectories();
}

return 0;

static bool HostAssemblyLoaded() => AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == HcsEmbedding.HostPackage);
