// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema.Tests;

/// <summary>Hand-written documents, in canonical member order, parse and re-serialise to the identical text.</summary>
public sealed class CanonicalJsonTests
{
    public const string Seed =
        """{"SchemaVersion":{"Major":2,"Minor":1},"Owner":"Sample","VirtualMachine":{"Chipset":{"Uefi":{}},"ComputeTopology":{"Memory":{"Backing":"Physical","SizeInMB":1024},"Processor":{"Count":2}}},"ShouldTerminateOnLastHandleClosed":true}""";

    private static readonly Dictionary<string, Func<string, string>> s_roundTrip = new()
    {
        ["ComputeSystem"] = j => HcsJson.Serialize(HcsJson.ParseComputeSystem(j)),
        ["HostedSystem"] = j => HcsJson.Serialize(HcsJson.Deserialize<HostedSystem>(j)),
        ["Properties"] = j => HcsJson.Serialize(HcsJson.Deserialize<Properties>(j)),
        ["PropertiesList"] = j => HcsJson.Serialize(HcsJson.Deserialize<IReadOnlyList<Properties>>(j)),
        ["SystemPropertyQuery"] = j => HcsJson.Serialize(HcsJson.Deserialize<SystemPropertyQuery>(j)),
        ["SystemQuery"] = j => HcsJson.Serialize(HcsJson.Deserialize<SystemQuery>(j)),
        ["ServicePropertyQuery"] = j => HcsJson.Serialize(HcsJson.Deserialize<ServicePropertyQuery>(j)),
        ["ServiceProperties"] = j => HcsJson.Serialize(HcsJson.Deserialize<ServiceProperties>(j)),
        ["BasicInformation"] = j => HcsJson.Serialize(HcsJson.Deserialize<BasicInformation>(j)),
        ["ModifySettingRequest"] = j => HcsJson.Serialize(HcsJson.Deserialize<ModifySettingRequest>(j)),
        ["Attachment"] = j => HcsJson.Serialize(HcsJson.Deserialize<Attachment>(j)),
        ["ProcessParameters"] = j => HcsJson.Serialize(HcsJson.Deserialize<ProcessParameters>(j)),
        ["ProcessStatus"] = j => HcsJson.Serialize(HcsJson.Deserialize<ProcessStatus>(j)),
        ["ProcessModifyRequest"] = j => HcsJson.Serialize(HcsJson.Deserialize<ProcessModifyRequest>(j)),
        ["SignalProcessOptions"] = j => HcsJson.Serialize(HcsJson.Deserialize<SignalProcessOptions>(j)),
        ["PauseOptions"] = j => HcsJson.Serialize(HcsJson.Deserialize<PauseOptions>(j)),
        ["SaveOptions"] = j => HcsJson.Serialize(HcsJson.Deserialize<SaveOptions>(j)),
        ["ShutdownOptions"] = j => HcsJson.Serialize(HcsJson.Deserialize<ShutdownOptions>(j)),
        ["CrashOptions"] = j => HcsJson.Serialize(HcsJson.Deserialize<CrashOptions>(j)),
        ["CrashReport"] = j => HcsJson.Serialize(HcsJson.Deserialize<CrashReport>(j)),
        ["ResultError"] = j => HcsJson.Serialize(HcsJson.Deserialize<ResultError>(j)),
        ["SystemExitStatus"] = j => HcsJson.Serialize(HcsJson.Deserialize<SystemExitStatus>(j)),
        ["Statistics"] = j => HcsJson.Serialize(HcsJson.Deserialize<Statistics>(j)),
        ["Keyboard"] = j => HcsJson.Serialize(HcsJson.Deserialize<Keyboard>(j)),
    };

    public static TheoryData<string, string> Documents() => new()
    {
        { "ComputeSystem", Seed },
        // §8.11 minimal UEFI VM.
        { "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":1},"Owner":"Sample","VirtualMachine":{"Chipset":{"Uefi":{"BootThis":{"DeviceType":"ScsiDrive","DevicePath":"Primary disk","DiskNumber":0}}},"ComputeTopology":{"Memory":{"Backing":"Virtual","SizeInMB":2048},"Processor":{"Count":2}},"Devices":{"Scsi":{"Primary disk":{"Attachments":{"0":{"Type":"VirtualDisk","Path":"c:\\x.vhdx"}}}}}},"ShouldTerminateOnLastHandleClosed":true}""" },
        // hcsshim-style LCOW utility VM with direct kernel boot.
        { "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":2},"Owner":"containerd-shim-runhcs-v1.exe","VirtualMachine":{"StopOnReset":true,"Chipset":{"LinuxKernelDirect":{"KernelFilePath":"/boot/vmlinux","InitRdPath":"/boot/initrd.img","KernelCmdLine":"console=ttyS0 pci=off"}},"ComputeTopology":{"Memory":{"SizeInMB":1024,"AllowOvercommit":true},"Processor":{"Count":2}},"Devices":{"Scsi":{"df6d0690-79e5-55b6-a5ec-c1e2f77f580a":{}},"HvSocket":{"HvSocketConfig":{"DefaultBindSecurityDescriptor":"D:P(A;;FA;;;SY)(A;;FA;;;BA)"}},"Plan9":{}},"GuestConnection":{"UseVsock":true}},"ShouldTerminateOnLastHandleClosed":true}""" },
        // Argon container.
        { "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":1},"Owner":"docker","Container":{"GuestOs":{"HostName":"web"},"Storage":{"Layers":[{"Id":"df6d0690-79e5-55b6-a5ec-c1e2f77f580a","Path":"/layers/base"}],"Path":"/scratch"},"MappedDirectories":[{"HostPath":"/srv","ContainerPath":"/srv","ReadOnly":true}],"Memory":{"SizeInMB":512},"Processor":{"Weight":100},"Networking":{"Namespace":"/var/run/netns/a"}},"ShouldTerminateOnLastHandleClosed":true}""" },
        // Hosted container.
        { "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":1},"HostingSystemId":"uvm-1","HostedSystem":{"SchemaVersion":{"Major":2,"Minor":1},"Container":{"Storage":{"Path":"/run/gcs/c/1"}}}}""" },
        { "HostedSystem", """{"SchemaVersion":{"Major":2,"Minor":1},"Container":{"GuestOs":{"HostName":"c1"}}}""" },
        { "Properties", """{"Id":"vm-1","SystemType":"VirtualMachine","RuntimeOsType":"Linux","Owner":"Sample","RuntimeId":"df6d0690-79e5-55b6-a5ec-c1e2f77f580a","State":"Stopped","Stopped":true,"ExitType":"ForcedExit"}""" },
        { "PropertiesList", """[{"Id":"a","State":"Running"},{"Id":"b","State":"Paused"}]""" },
        { "Statistics", """{"Timestamp":"2024-01-31T12:00:00+00:00","Uptime100ns":10,"Processor":{"TotalRuntime100ns":5},"Memory":{"MemoryUsageCommitBytes":4096},"Storage":{"ReadSizeBytes":1}}""" },
        { "SystemPropertyQuery", """{"PropertyTypes":["Memory","Statistics","ProcessList","GuestConnection"]}""" },
        { "SystemQuery", """{"Ids":["a","b"],"Owners":["Sample"]}""" },
        { "ServicePropertyQuery", """{"PropertyTypes":["Basic"]}""" },
        { "ServiceProperties", """{"Properties":[{"SupportedSchemaVersions":[{"Major":2,"Minor":5}]}]}""" },
        { "BasicInformation", """{"SupportedSchemaVersions":[{"Major":2,"Minor":5}]}""" },
        { "ModifySettingRequest", """{"ResourcePath":"VirtualMachine/ComputeTopology/Memory/SizeInMB","RequestType":"Update","Settings":4096}""" },
        { "ModifySettingRequest", """{"GuestRequest":{"ResourceType":"MappedVirtualDisk","RequestType":"Add","Settings":{"MountPath":"/m"}}}""" },
        { "Attachment", """{"Type":"VirtualDisk","Path":"/d.vhdx","ReadOnly":true}""" },
        { "ProcessParameters", """{"CommandLine":"sh","CommandArgs":["sh"],"WorkingDirectory":"/","Environment":{"PATH":"/bin"},"EmulateConsole":true,"CreateStdInPipe":true,"CreateStdOutPipe":true,"ConsoleSize":[24,80]}""" },
        { "ProcessStatus", """{"ProcessId":7,"Exited":true,"ExitCode":1,"LastWaitResult":0}""" },
        { "ProcessModifyRequest", """{"Operation":"CloseHandle","CloseHandle":{"Handle":"StdIn"}}""" },
        { "ProcessModifyRequest", """{"Operation":"ConsoleSize","ConsoleSize":{"Height":24,"Width":80}}""" },
        { "SignalProcessOptions", """{"Signal":"CtrlC"}""" },
        { "SignalProcessOptions", """{"Signal":9}""" },
        { "PauseOptions", """{"SuspensionLevel":"Suspend","HostedNotification":{"Reason":"Save"}}""" },
        { "SaveOptions", """{"SaveType":"AsTemplate","SaveStateFilePath":"/s.vmrs"}""" },
        { "ShutdownOptions", """{"Mechanism":"IntegrationService","Type":"Hibernate","Force":false,"Reason":"test"}""" },
        { "CrashOptions", """{"Type":"CrashGuest"}""" },
        { "CrashReport", """{"SystemId":"vm-1","CrashParameters":[126,3221225477,0,0,0],"CrashLog":"panic"}""" },
        { "ResultError", """{"Error":-2147024809,"ErrorMessage":"","Attribution":[{"OperationFailure":{"Detail":"Construct"}}]}""" },
        { "SystemExitStatus", """{"Status":0,"ExitType":"GracefulExit"}""" },
        { "Keyboard", "{}" },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void CanonicalDocumentReserialisesToIdenticalText(string type, string json)
    {
        Assert.Equal(json, s_roundTrip[type](json));
    }

    [Fact]
    public void SeedDocumentParsesToExpectedValues()
    {
        var system = HcsJson.ParseComputeSystem(Seed);

        Assert.Equal(new Version { Major = 2, Minor = 1 }, system.SchemaVersion);
        Assert.Equal("Sample", system.Owner);
        Assert.True(system.ShouldTerminateOnLastHandleClosed);
        Assert.NotNull(system.VirtualMachine?.Chipset?.Uefi);
        Assert.Equal(MemoryBackingType.Physical, system.VirtualMachine.ComputeTopology?.Memory?.Backing);
        Assert.Equal(1024UL, system.VirtualMachine.ComputeTopology?.Memory?.SizeInMB);
        Assert.Equal(2U, system.VirtualMachine.ComputeTopology?.Processor?.Count);
        Assert.Null(system.Container);
    }
}
