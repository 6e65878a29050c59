// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// <c>HcsModifyServiceSettings</c>: hcs has no service-wide settings a client may change (no CPU groups: a VM's CPU
/// share is its own <c>ComputeTopology.Processor</c> Limit and Weight, applied through its cgroup; no Credential
/// Guard), so every request is refused, with a result document that says which part of it is the problem.
/// </summary>
internal static class ServiceSettings
{
    /// <summary>The error for <paramref name="document"/>: <c>HCS_E_INVALID_JSON</c> if it does not parse, else <c>E_NOTIMPL</c>.</summary>
    public static HcsException Refusal(string document)
    {
        try
        {
            var request = HcsJson.Deserialize<ModificationRequest>(document);
            switch (request.PropertyType)
            {
                case null:
                    return HcsException.InvalidJson("$.PropertyType", "missing: a ModificationRequest names the setting to modify (CpuGroup or ContainerCredentialGuard)");
                case ModificationPropertyType.CpuGroup:
                    if (request.Settings is { } settings)
                    {
                        _ = HcsJson.Deserialize<HostProcessorModificationRequest>(settings, "$.Settings");
                    }

                    return NotImplemented("$.PropertyType: CpuGroup is not supported: hcs has no host CPU groups on Linux "
                        + "(limit a VM's CPU with VirtualMachine.ComputeTopology.Processor.Limit and Weight, applied through its cgroup)");
                default:
                    return NotImplemented($"$.PropertyType: {request.PropertyType} is not supported: Credential Guard is a Windows feature");
            }
        }
        catch (HcsException e)
        {
            return e;
        }
    }

    private static HcsException NotImplemented(string detail) =>
        new(HResults.E_NOTIMPL, "Service.ModifySettings", result: ResultError.From(HResults.E_NOTIMPL, detail, "libcomputecore"));
}
