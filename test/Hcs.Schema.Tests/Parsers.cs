// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema.Tests;

/// <summary>Parses a document by schema type name, so table-driven tests can name the type as a string.</summary>
public static class Parsers
{
    private static readonly Dictionary<string, Func<string, object>> s_parsers = new()
    {
        ["ComputeSystem"] = HcsJson.ParseComputeSystem,
        ["Version"] = HcsJson.Deserialize<Version>,
        ["HostedSystem"] = HcsJson.Deserialize<HostedSystem>,
        ["VirtualMachineProcessor"] = HcsJson.Deserialize<VirtualMachineProcessor>,
        ["ProcessorLimits"] = HcsJson.Deserialize<ProcessorLimits>,
        ["CrashReport"] = HcsJson.Deserialize<CrashReport>,
        ["ContainerProcessor"] = HcsJson.Deserialize<ContainerProcessor>,
        ["Attachment"] = HcsJson.Deserialize<Attachment>,
        ["Statistics"] = HcsJson.Deserialize<Statistics>,
        ["SystemQuery"] = HcsJson.Deserialize<SystemQuery>,
        ["SystemPropertyQuery"] = HcsJson.Deserialize<SystemPropertyQuery>,
        ["ModifySettingRequest"] = HcsJson.Deserialize<ModifySettingRequest>,
        ["ProcessParameters"] = HcsJson.Deserialize<ProcessParameters>,
        ["ProcessStatus"] = HcsJson.Deserialize<ProcessStatus>,
        ["ProcessModifyRequest"] = HcsJson.Deserialize<ProcessModifyRequest>,
        ["SignalProcessOptions"] = HcsJson.Deserialize<SignalProcessOptions>,
        ["ResultError"] = HcsJson.Deserialize<ResultError>,
        ["PropertiesList"] = HcsJson.Deserialize<IReadOnlyList<Properties>>,
    };

    public static object Parse(string type, string json) => s_parsers[type](json);
}
