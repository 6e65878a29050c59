// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;

namespace Hcs.Schema;

/// <summary>
/// Semantic rules of the schema documents, checked after binding; each failure is <c>HCS_E_INVALID_JSON</c>
/// naming the offending path. Walks from any document type down to the nested types that have rules.
/// </summary>
internal static class SchemaRules
{
    /// <summary>Largest POSIX signal number accepted in <see cref="SignalProcessOptions.Signal"/>.</summary>
    public const int MaxPosixSignal = 64;

    /// <summary>Checks <paramref name="document"/>, located at <paramref name="path"/>.</summary>
    public static void Validate(object document, string path)
    {
        switch (document)
        {
            case ComputeSystem system:
                ComputeSystem(system, path);
                break;
            case HostedSystem hosted:
                Container(hosted.Container, JsonPath.Member(path, "Container"));
                break;
            case VirtualMachine vm:
                VirtualMachine(vm, path);
                break;
            case Topology topology:
                Topology(topology, path);
                break;
            case VirtualMachineMemory memory:
                NonZero(memory.SizeInMB, path, "SizeInMB");
                break;
            case VirtualMachineProcessor processor:
                VmProcessor(processor, path);
                break;
            case ProcessorLimits limits:
                InRange(limits.Limit, 1, 100_000, path, "Limit");
                InRange(limits.Weight, 0, 10_000, path, "Weight");
                InRange(limits.Reservation, 0, 100_000, path, "Reservation");
                break;
            case Devices devices:
                Devices(devices, path);
                break;
            case Scsi scsi:
                CheckKeys(scsi.Attachments, JsonPath.Member(path, "Attachments"), "a LUN", static k => uint.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _));
                break;
            case VirtualPMemController pmem:
                VirtualPMem(pmem, path);
                break;
            case HvSocket socket:
                ServiceTable(socket.HvSocketConfig, JsonPath.Member(path, "HvSocketConfig"));
                break;
            case HvSocketSystemConfig config:
                ServiceTable(config, path);
                break;
            case Container container:
                Container(container, path);
                break;
            case ContainerMemory memory:
                NonZero(memory.SizeInMB, path, "SizeInMB");
                break;
            case ContainerProcessor processor:
                ContainerProcessor(processor, path);
                break;
            case ModifySettingRequest request:
                ModifySettingRequest(request, path);
                break;
            case ProcessParameters parameters:
                ProcessParameters(parameters, path);
                break;
            case ProcessModifyRequest request:
                ProcessModifyRequest(request, path);
                break;
            case SignalProcessOptions options:
                Signal(options, path);
                break;
            default:
                break;
        }
    }

    private static void ComputeSystem(ComputeSystem system, string path)
    {
        var set = new List<string>(3);
        if (system.Container is not null)
        {
            set.Add("Container");
        }

        if (system.VirtualMachine is not null)
        {
            set.Add("VirtualMachine");
        }

        if (system.HostedSystem is not null)
        {
            set.Add("HostedSystem");
        }

        if (set.Count != 1)
        {
            var found = set.Count == 0 ? "none is set" : $"{string.Join(" and ", set)} are set";
            throw HcsException.InvalidJson(path, $"exactly one of Container, VirtualMachine, HostedSystem must be set; {found}");
        }

        if (system.HostedSystem is not null && string.IsNullOrEmpty(system.HostingSystemId))
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "HostingSystemId"), "HostingSystemId is required when HostedSystem is set");
        }

        if (system.HostingSystemId is not null && system.HostedSystem is null)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "HostingSystemId"), "HostingSystemId is only valid together with HostedSystem");
        }

        if (system.VirtualMachine is { } vm)
        {
            VirtualMachine(vm, JsonPath.Member(path, "VirtualMachine"));
        }

        Container(system.Container, JsonPath.Member(path, "Container"));
        if (system.HostedSystem is { } hosted)
        {
            Container(hosted.Container, JsonPath.Member(JsonPath.Member(path, "HostedSystem"), "Container"));
        }
    }

    private static void VirtualMachine(VirtualMachine vm, string path)
    {
        if (vm.ComputeTopology is { } topology)
        {
            Topology(topology, JsonPath.Member(path, "ComputeTopology"));
        }

        if (vm.Devices is { } devices)
        {
            Devices(devices, JsonPath.Member(path, "Devices"));
        }
    }

    private static void Topology(Topology topology, string path)
    {
        if (topology.Memory is { } memory)
        {
            NonZero(memory.SizeInMB, JsonPath.Member(path, "Memory"), "SizeInMB");
        }

        if (topology.Processor is { } processor)
        {
            VmProcessor(processor, JsonPath.Member(path, "Processor"));
        }
    }

    private static void VmProcessor(VirtualMachineProcessor processor, string path)
    {
        if (processor.Count == 0)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "Count"), "Count must be at least 1");
        }

        InRange(processor.Limit, 1, 100_000, path, "Limit");
        InRange(processor.Weight, 0, 10_000, path, "Weight");
        InRange(processor.Reservation, 0, 100_000, path, "Reservation");
    }

    private static void Devices(Devices devices, string path)
    {
        static bool IsUInt32(string key) => uint.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out _);

        CheckKeys(devices.ComPorts, JsonPath.Member(path, "ComPorts"), "a port number", IsUInt32);
        CheckKeys(devices.VirtioSerial?.Ports, JsonPath.Member(JsonPath.Member(path, "VirtioSerial"), "Ports"), "a port number", IsUInt32);
        if (devices.Scsi is { } controllers)
        {
            foreach (var (name, controller) in controllers)
            {
                var attachments = JsonPath.Member(JsonPath.Member(JsonPath.Member(path, "Scsi"), name), "Attachments");
                CheckKeys(controller.Attachments, attachments, "a LUN", IsUInt32);
            }
        }

        if (devices.VirtualPMem is { } pmem)
        {
            VirtualPMem(pmem, JsonPath.Member(path, "VirtualPMem"));
        }

        ServiceTable(devices.HvSocket?.HvSocketConfig, JsonPath.Member(JsonPath.Member(path, "HvSocket"), "HvSocketConfig"));
    }

    private static void VirtualPMem(VirtualPMemController pmem, string path)
    {
        var devicesPath = JsonPath.Member(path, "Devices");
        CheckKeys(pmem.Devices, devicesPath, "a device number (0–255)", static k => byte.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        foreach (var (slot, device) in pmem.Devices ?? new Dictionary<string, VirtualPMemDevice>())
        {
            CheckKeys(device.Mappings, JsonPath.Member(JsonPath.Member(devicesPath, slot), "Mappings"), "a byte offset",
                static k => ulong.TryParse(k, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        }
    }

    private static void ServiceTable(HvSocketSystemConfig? config, string path) =>
        CheckKeys(config?.ServiceTable, JsonPath.Member(path, "ServiceTable"), "a service GUID", static k => Guid.TryParseExact(k, "D", out _));

    private static void Container(Container? container, string path)
    {
        if (container is null)
        {
            return;
        }

        if (container.Memory is { } memory)
        {
            NonZero(memory.SizeInMB, JsonPath.Member(path, "Memory"), "SizeInMB");
        }

        if (container.Processor is { } processor)
        {
            ContainerProcessor(processor, JsonPath.Member(path, "Processor"));
        }

        ServiceTable(container.HvSocket?.Config, JsonPath.Member(JsonPath.Member(path, "HvSocket"), "Config"));
    }

    private static void ContainerProcessor(ContainerProcessor processor, string path)
    {
        var set = new List<string>(3);
        if (processor.Count is not null)
        {
            set.Add("Count");
        }

        if (processor.Maximum is not null)
        {
            set.Add("Maximum");
        }

        if (processor.Weight is not null)
        {
            set.Add("Weight");
        }

        if (set.Count > 1)
        {
            throw HcsException.InvalidJson(path,
                $"Count, Maximum and Weight are mutually exclusive for a container, but {string.Join(" and ", set)} are set");
        }

        if (processor.Count == 0)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "Count"), "Count must be at least 1");
        }

        InRange(processor.Maximum, 1, 10_000, path, "Maximum");
        InRange(processor.Weight, 0, 10_000, path, "Weight");
    }

    private static void ModifySettingRequest(ModifySettingRequest request, string path)
    {
        if (string.IsNullOrEmpty(request.ResourcePath) && request.GuestRequest is null)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "ResourcePath"),
                "required member 'ResourcePath' is missing (a ModifySettingRequest needs ResourcePath or GuestRequest)");
        }
    }

    private static void ProcessParameters(ProcessParameters parameters, string path)
    {
        if (parameters.ConsoleSize is { Count: not 2 } size)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, "ConsoleSize"),
                $"ConsoleSize must have exactly 2 elements [height, width], got {size.Count}");
        }
    }

    private static void ProcessModifyRequest(ProcessModifyRequest request, string path)
    {
        switch (request.Operation)
        {
            case null:
                throw HcsException.InvalidJson(JsonPath.Member(path, "Operation"), "required member 'Operation' is missing");
            case ModifyOperation.ConsoleSize when request.ConsoleSize is null:
                throw HcsException.InvalidJson(JsonPath.Member(path, "ConsoleSize"),
                    "required member 'ConsoleSize' is missing (Operation is ConsoleSize)");
            case ModifyOperation.CloseHandle when request.CloseHandle is null:
                throw HcsException.InvalidJson(JsonPath.Member(path, "CloseHandle"),
                    "required member 'CloseHandle' is missing (Operation is CloseHandle)");
            case ModifyOperation.CloseHandle when request.CloseHandle.Handle is null:
                throw HcsException.InvalidJson(JsonPath.Member(JsonPath.Member(path, "CloseHandle"), "Handle"),
                    "required member 'Handle' is missing");
            default:
                break;
        }
    }

    private static void Signal(SignalProcessOptions options, string path)
    {
        var signalPath = JsonPath.Member(path, "Signal");
        if (options.Signal is not { } signal)
        {
            throw HcsException.InvalidJson(signalPath, "required member 'Signal' is missing");
        }

        switch (signal.ValueKind)
        {
            case JsonValueKind.String:
                var name = signal.GetString()!;
                if (!Enum.TryParse<ProcessSignal>(name, ignoreCase: false, out var parsed) || Enum.GetName(parsed) != name)
                {
                    throw HcsException.InvalidJson(signalPath,
                        $"unknown value '{ErrorText.Truncate(name)}' for ProcessSignal (expected one of {string.Join(", ", Enum.GetNames<ProcessSignal>())}, or a POSIX signal number 1–{MaxPosixSignal})");
                }

                break;
            case JsonValueKind.Number:
                if (!signal.TryGetInt32(out var number) || number is < 1 or > MaxPosixSignal)
                {
                    throw HcsException.InvalidJson(signalPath,
                        $"signal {ErrorText.Truncate(signal.GetRawText())} is out of range (POSIX signal numbers are 1–{MaxPosixSignal})");
                }

                break;
            default:
                throw HcsException.InvalidJson(signalPath,
                    $"expected a string naming a ProcessSignal or a POSIX signal number, got {JsonPath.KindOf(signal.ValueKind)}");
        }
    }

    private static void NonZero(ulong? value, string path, string member)
    {
        if (value == 0)
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, member), $"{member} must be greater than 0");
        }
    }

    private static void InRange(ulong? value, ulong min, ulong max, string path, string member)
    {
        if (value is { } v && (v < min || v > max))
        {
            throw HcsException.InvalidJson(JsonPath.Member(path, member), $"{member} must be between {min} and {max}, got {v}");
        }
    }

    private static void CheckKeys<T>(IReadOnlyDictionary<string, T>? map, string path, string what, Func<string, bool> isValid)
    {
        if (map is null)
        {
            return;
        }

        foreach (var key in map.Keys)
        {
            if (!isValid(key))
            {
                throw HcsException.InvalidJson(JsonPath.Member(path, key), $"map key '{ErrorText.Truncate(key)}' is not {what}");
            }
        }
    }
}
