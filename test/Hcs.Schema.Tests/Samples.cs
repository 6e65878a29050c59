// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema.Tests;

/// <summary>One fully-populated instance of a schema record, with typed serialise/parse delegates.</summary>
public sealed record Sample(Type Type, string Name, object Value, Func<object, string> Serialize, Func<string, object> Deserialize)
{
    public override string ToString() => Name;
}

/// <summary>
/// Fully-populated instances of every public schema record. Together, the samples of one type set every member
/// (checked by <see cref="CoverageTests"/>); types whose members are mutually exclusive have several samples.
/// </summary>
public static class Samples
{
    public static readonly Guid G1 = Guid.Parse("df6d0690-79e5-55b6-a5ec-c1e2f77f580a");
    public static readonly Guid G2 = Guid.Parse("0000002a-facb-11e6-bd58-64006a7986d3");
    public static readonly DateTimeOffset T1 = new(2024, 1, 31, 12, 0, 0, TimeSpan.Zero);

    public static Version V21 => new() { Major = 2, Minor = 1 };
    public static Version V25 => new() { Major = 2, Minor = 5 };

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    // Virtual machine.
    public static LinuxKernelDirect LinuxKernelDirect => new() { KernelFilePath = "/boot/vmlinuz", InitRdPath = "/boot/initrd.img", KernelCmdLine = "console=ttyS0" };
    public static FirmwareFile FirmwareFile => new() { Parameters = "AAECAw==" };
    public static UefiBootEntry UefiBootEntry => new() { DeviceType = UefiBootDevice.VmbFs, DevicePath = "\\vmlinuz", DiskNumber = 1, OptionalData = "quiet", VmbFsRootPath = "/var/lib/boot" };
    public static Uefi Uefi => new()
    {
        EnableDebugger = true,
        SecureBootTemplateId = G1,
        ApplySecureBootTemplate = ApplySecureBootTemplateType.Apply,
        BootThis = UefiBootEntry,
        Console = SerialConsole.ComPort1,
        StopOnBootFailure = true,
    };
    public static Chipset Chipset => new()
    {
        Uefi = Uefi,
        IsNumLockDisabled = true,
        BaseBoardSerialNumber = "bb-1",
        ChassisSerialNumber = "ch-1",
        ChassisAssetTag = "tag-1",
        EnableHibernation = false,
        UseUtc = true,
        LinuxKernelDirect = LinuxKernelDirect,
        FirmwareFile = FirmwareFile,
    };
    public static VirtualMachineMemory VirtualMachineMemory => new()
    {
        Backing = MemoryBackingType.Hybrid,
        SizeInMB = 2048,
        AllowOvercommit = true,
        BackingPageSize = MemoryBackingPageSize.Large,
        FaultClusterSizeShift = 4,
        DirectMapFaultClusterSizeShift = 9,
        PinBackingPages = false,
        ForbidSmallBackingPages = false,
        EnableHotHint = true,
        EnableColdHint = true,
        EnableColdDiscardHint = true,
        EnableDeferredCommit = true,
        LowMmioGapInMB = 256,
        HighMmioBaseInMB = 65536,
        HighMmioGapInMB = 4096,
        SlitType = VirtualSlitType.FirmwareFallbackMeasured,
    };
    public static CpuGroup CpuGroup => new() { Id = G2.ToString() };
    public static VirtualMachineProcessor VirtualMachineProcessor => new()
    {
        Count = 4,
        Limit = 50_000,
        Weight = 200,
        Reservation = 10_000,
        MaximumFrequencyMHz = 2400,
        ExposeVirtualizationExtensions = true,
        EnablePerfmonPmu = true,
        EnablePerfmonArchPmu = true,
        EnablePerfmonPebs = false,
        EnablePerfmonLbr = false,
        EnablePerfmonIpt = false,
        EnablePageShattering = true,
        DisableSpeculationControls = false,
        ProcessorFeatureSet = Json("""{"Features":[1,2]}"""),
        CpuGroup = CpuGroup,
        NumaProcessorsSettings = Json("""{"CountPerNode":{"Max":2}}"""),
    };
    public static ProcessorLimits ProcessorLimits => new() { Limit = 25_000, Weight = 50, Reservation = 5_000, MaximumFrequencyMHz = 1800 };
    public static Topology Topology => new() { Memory = VirtualMachineMemory, Processor = VirtualMachineProcessor, Numa = Json("""{"VirtualNodeCount":1}""") };
    public static ComPort ComPort => new() { NamedPipe = "/run/hcs/com1.sock", OptimizeForDebugger = true };
    public static VirtioSerialPort VirtioSerialPort => new() { NamedPipe = "/run/hcs/vs0.sock", Name = "console0" };
    public static VirtioSerial VirtioSerial => new() { Ports = new Dictionary<string, VirtioSerialPort> { ["0"] = VirtioSerialPort } };
    public static Attachment Attachment => new()
    {
        Type = AttachmentType.VirtualDisk,
        Path = "/var/lib/hcs/disk.vhdx",
        CachingMode = CachingMode.ReadOnlyCached,
        ReadOnly = true,
        IgnoreFlushes = true,
        NoWriteHardening = true,
        DisableExpansionOptimization = true,
        IgnoreRelativeLocator = true,
        CaptureIoAttributionContext = true,
        SupportCompressedVolumes = true,
        ExtensibleVirtualDiskType = "Raw",
    };
    public static Scsi Scsi => new() { Attachments = new Dictionary<string, Attachment> { ["0"] = Attachment, ["1"] = Attachment with { Type = AttachmentType.Iso } }, DisableInterruptBatching = true };
    public static VirtualPMemMapping VirtualPMemMapping => new() { HostPath = "/layers/1.vhd", ImageFormat = VirtualPMemImageFormat.Vhd1 };
    public static VirtualPMemDevice VirtualPMemDevice => new()
    {
        HostPath = "/layers/0.vhd",
        ReadOnly = true,
        ImageFormat = VirtualPMemImageFormat.Vhdx,
        SizeBytes = 536_870_912,
        Mappings = new Dictionary<string, VirtualPMemMapping> { ["4096"] = VirtualPMemMapping },
    };
    public static VirtualPMemController VirtualPMemController => new()
    {
        Devices = new Dictionary<string, VirtualPMemDevice> { ["0"] = VirtualPMemDevice },
        MaximumCount = 16,
        MaximumSizeBytes = 4_294_967_296,
        Backing = VirtualPMemBackingType.Physical,
    };
    public static IovSettings IovSettings => new() { OffloadWeight = 100, QueuePairsRequested = 4, InterruptModeration = InterruptModerationMode.Adaptive };
    public static NetworkAdapter NetworkAdapter => new()
    {
        EndpointId = G1,
        MacAddress = "00-15-5D-00-00-01",
        InstanceId = G2,
        DisableInterruptBatching = false,
        IovSettings = IovSettings,
        ConnectionState = NetworkAdapterConnectionState.Enabled,
    };
    public static VideoMonitor VideoMonitor => new() { HorizontalResolution = 1920, VerticalResolution = 1080, ConnectionOptions = Json("""{"AccessSids":["S-1-5-32-544"]}""") };
    public static EnhancedModeVideo EnhancedModeVideo => new() { ConnectionOptions = Json("""{"NamedPipe":"rdp"}""") };
    public static WindowsCrashReporting WindowsCrashReporting => new() { DumpFileName = "/var/crash/vm.dmp", MaxDumpSize = 1_073_741_824, DumpType = "Full" };
    public static GuestCrashReporting GuestCrashReporting => new() { WindowsCrashSettings = WindowsCrashReporting };
    public static HvSocketServiceConfig HvSocketServiceConfig => new()
    {
        BindSecurityDescriptor = "D:P(A;;FA;;;SY)",
        ConnectSecurityDescriptor = "D:P(A;;FA;;;BA)",
        AllowWildcardBinds = true,
        Disabled = false,
    };
    public static HvSocketSystemConfig HvSocketSystemConfig => new()
    {
        DefaultBindSecurityDescriptor = "D:P(A;;FA;;;SY)(A;;FA;;;BA)",
        DefaultConnectSecurityDescriptor = "D:P(A;;FA;;;SY)",
        ServiceTable = new Dictionary<string, HvSocketServiceConfig> { [G2.ToString()] = HvSocketServiceConfig },
    };
    public static HvSocket HvSocket => new() { HvSocketConfig = HvSocketSystemConfig };
    public static ContainerHvSocket ContainerHvSocket => new() { Config = HvSocketSystemConfig, EnablePowerShellDirect = true };
    public static Plan9Share Plan9Share => new() { Name = "share0", AccessName = "share0", Path = "/srv/share", Port = 564, Flags = 0x5, AllowedFiles = ["a.txt", "b.txt"] };
    public static Plan9 Plan9 => new() { Shares = [Plan9Share] };
    public static VirtualSmbShareOptions VirtualSmbShareOptions => new()
    {
        ReadOnly = true,
        ShareRead = true,
        CacheIo = true,
        NoOplocks = true,
        TakeBackupPrivilege = true,
        UseShareRootIdentity = true,
        NoDirectmap = true,
        NoLocks = true,
        NoDirnotify = true,
        VmSharedMemory = true,
        RestrictFileAccess = true,
        ForceLevelIIOplocks = true,
        ReparseBaseLayer = true,
        PseudoOplocks = true,
        NonCacheIo = true,
        PseudoDirnotify = true,
        SingleFileMapping = true,
    };
    public static VirtualSmbShare VirtualSmbShare => new() { Name = "os", Path = "/srv/os", AllowedFiles = ["boot.wim"], Options = VirtualSmbShareOptions };
    public static VirtualSmb VirtualSmb => new() { Shares = [VirtualSmbShare], DirectFileMappingInMB = 1024 };
    public static VirtualPciFunction VirtualPciFunction => new() { DeviceInstancePath = "PCIP\\VEN_10DE", VirtualFunction = 1 };
    public static VirtualPciDevice VirtualPciDevice => new() { Functions = [VirtualPciFunction], PropagateNumaAffinity = true };
    public static Devices Devices => new()
    {
        ComPorts = new Dictionary<string, ComPort> { ["0"] = ComPort },
        VirtioSerial = VirtioSerial,
        Scsi = new Dictionary<string, Scsi> { ["Primary disk"] = Scsi },
        VirtualPMem = VirtualPMemController,
        NetworkAdapters = new Dictionary<string, NetworkAdapter> { ["eth0"] = NetworkAdapter },
        VideoMonitor = VideoMonitor,
        Keyboard = new Keyboard(),
        Mouse = new Mouse(),
        EnhancedModeVideo = EnhancedModeVideo,
        GuestCrashReporting = GuestCrashReporting,
        HvSocket = HvSocket,
        Plan9 = Plan9,
        VirtualSmb = VirtualSmb,
        Battery = new Battery(),
        VirtualPci = new Dictionary<string, VirtualPciDevice> { ["gpu"] = VirtualPciDevice },
    };
    public static GuestState GuestState => new() { GuestStateFilePath = "/vm/vm.vmgs", GuestStateFileType = "FileMode", RuntimeStateFilePath = "/vm/vm.vmrs", ForceTransientState = false };
    public static RestoreState RestoreState => new() { SaveStateFilePath = "/vm/saved.vmrs", TemplateSystemId = "template-1" };
    public static RegistryKey RegistryKey => new() { Hive = RegistryHive.Software, Name = "Microsoft\\Test", Volatile = true };
    public static RegistryValue RegistryValue => new()
    {
        Key = RegistryKey,
        Name = "Value",
        Type = RegistryValueType.CustomType,
        StringValue = "text",
        BinaryValue = "AQID",
        DWordValue = -1,
        QWordValue = long.MaxValue,
        CustomType = 42,
    };
    public static RegistryChanges RegistryChanges => new() { AddValues = [RegistryValue], DeleteKeys = [RegistryKey] };
    public static StorageQoS StorageQoS => new() { IopsMaximum = 1000, BandwidthMaximum = 10_000_000 };
    public static DebugOptions DebugOptions => new()
    {
        BugcheckSavedStateFileName = "bug.vmrs",
        BugcheckNoCrashdumpSavedStateFileName = "bug-nodump.vmrs",
        TripleFaultSavedStateFileName = "tf.vmrs",
        FirmwareDumpFileName = "fw.dmp",
    };
    public static GuestConnection GuestConnection => new() { UseVsock = true, UseConnectedSuspend = true, UseHostTimeZone = true };
    public static IsolationSettings IsolationSettings => new() { IsolationType = "SecureNestedPaging", LaunchData = "AA==", HclEnabled = true };
    public static SecuritySettings SecuritySettings => new() { EnableTpm = true, Isolation = IsolationSettings };
    public static VirtualMachine VirtualMachine => new()
    {
        Version = V25,
        StopOnReset = true,
        Chipset = Chipset,
        ComputeTopology = Topology,
        Devices = Devices,
        Services = Json("""{"Shutdown":{},"Heartbeat":{}}"""),
        GuestState = GuestState,
        RestoreState = RestoreState,
        RegistryChanges = RegistryChanges,
        StorageQoS = StorageQoS,
        DebugOptions = DebugOptions,
        GuestConnection = GuestConnection,
        SecuritySettings = SecuritySettings,
    };

    // Container.
    public static GuestOs GuestOs => new() { HostName = "web-1" };
    public static Layer Layer => new() { Id = G1, Path = "/var/lib/hcs/layers/1", PathType = PathType.AbsolutePath, Cache = "Enabled" };
    public static Storage Storage => new() { Layers = [Layer, Layer with { Id = G2 }], Path = "/var/lib/hcs/scratch", QoS = StorageQoS, PrivilegedContainerRootPath = "/hpc" };
    public static MappedDirectory MappedDirectory => new() { HostPath = "/srv/data", HostPathType = PathType.AbsolutePath, ContainerPath = "/data", ReadOnly = true, SupportCloudFiles = false };
    public static MappedPipe MappedPipe => new() { ContainerPipeName = "docker_engine", HostPath = "/run/docker.sock", HostPathType = PathType.VirtualSmbShareName };
    public static ContainerMemory ContainerMemory => new() { SizeInMB = 512 };
    public static Networking Networking => new()
    {
        AllowUnqualifiedDnsQuery = true,
        DnsSearchList = "corp.example,example",
        NetworkSharedContainerName = "pause",
        Namespace = "/var/run/netns/cni-1",
        NetworkAdapters = [G1, G2],
    };
    public static Device Device => new() { Type = DeviceType.ClassGuid, InterfaceClassGuid = G1, LocationPath = "PCIROOT(0)#PCI(0100)" };
    public static Container Container => new()
    {
        GuestOs = GuestOs,
        Storage = Storage,
        MappedDirectories = [MappedDirectory],
        MappedPipes = [MappedPipe],
        Memory = ContainerMemory,
        Processor = new ContainerProcessor { Maximum = 5000 },
        Networking = Networking,
        HvSocket = ContainerHvSocket,
        ContainerCredentialGuard = Json("""{"Id":"ccg"}"""),
        RegistryChanges = RegistryChanges,
        AssignedDevices = [Device],
        AdditionalDeviceNamespace = Json("""{"Devices":[]}"""),
    };
    public static HostedSystem HostedSystem => new() { SchemaVersion = V21, Container = Container };

    // Properties and queries.
    public static ProcessorStats ProcessorStats => new() { TotalRuntime100ns = 300, RuntimeUser100ns = 200, RuntimeKernel100ns = 100 };
    public static MemoryStats MemoryStats => new() { MemoryUsageCommitBytes = 1 << 20, MemoryUsageCommitPeakBytes = 2 << 20, MemoryUsagePrivateWorkingSetBytes = 3 << 20 };
    public static StorageStats StorageStats => new() { ReadCountNormalized = 1, ReadSizeBytes = 4096, WriteCountNormalized = 2, WriteSizeBytes = 8192 };
    public static Statistics Statistics => new()
    {
        Timestamp = T1,
        ContainerStartTime = T1.AddMinutes(-5),
        Uptime100ns = 3_000_000_000,
        Processor = ProcessorStats,
        Memory = MemoryStats,
        Storage = StorageStats,
    };
    public static ProcessDetails ProcessDetails => new()
    {
        ProcessId = 42,
        ImageName = "init",
        CreateTimestamp = T1,
        UserTime100ns = 10,
        KernelTime100ns = 20,
        MemoryCommitBytes = 4096,
        MemoryWorkingSetPrivateBytes = 8192,
        MemoryWorkingSetSharedBytes = 16384,
    };
    public static VmMemory VmMemory => new()
    {
        AvailableMemory = 1024,
        AvailableMemoryBuffer = 20,
        ReservedMemory = 128,
        AssignedMemory = 2048,
        SlpActive = false,
        BalancingEnabled = true,
        DmOperationInProgress = false,
    };
    public static MemoryInformationForVm MemoryInformationForVm => new() { VirtualNodeCount = 1, VirtualMachineMemory = VmMemory, VirtualNodes = [Json("""{"VirtualNodeIndex":0}""")] };
    public static GuestConnectionInfo GuestConnectionInfo => new()
    {
        SupportedSchemaVersions = [V21, V25],
        ProtocolVersion = 4,
        GuestDefinedCapabilities = Json("""{"SignalProcessSupported":true}"""),
    };
    public static ResultError ResultError => new()
    {
        Error = HResults.HCS_E_INVALID_JSON,
        ErrorMessage = "bad",
        ErrorEvents = [ErrorEvent],
        Attribution = [new AttributionRecord { OperationFailure = OperationFailure }],
    };
    public static PropertyResponse PropertyResponse => new() { Error = ResultError, Response = Json("""{"Answer":42}""") };
    public static Properties Properties => new()
    {
        Id = "vm-1",
        SystemType = SystemType.VirtualMachine,
        RuntimeOsType = OsType.Linux,
        Name = "vm-1",
        Owner = "sample",
        RuntimeId = G1,
        SystemGUID = G2,
        RuntimeTemplateId = "template-1",
        State = SystemState.Running,
        Stopped = false,
        ExitType = NotificationType.None,
        Memory = MemoryInformationForVm,
        Statistics = Statistics,
        ProcessList = [ProcessDetails],
        TerminateOnLastHandleClosed = true,
        HostingSystemId = "uvm-1",
        SharedMemoryRegionInfo = Json("""[]"""),
        GuestConnectionInfo = GuestConnectionInfo,
        PropertyResponses = new Dictionary<string, PropertyResponse> { ["q1"] = PropertyResponse },
    };
    public static SystemPropertyQuery SystemPropertyQuery => new()
    {
        PropertyTypes = [SystemPropertyType.Memory, SystemPropertyType.Statistics, SystemPropertyType.SystemGUID],
        Queries = new Dictionary<string, JsonElement> { ["q1"] = Json("""{"PropertyType":"CpuGroup"}""") },
    };
    public static SystemQuery SystemQuery => new() { Ids = ["vm-1"], Names = ["vm-1"], Types = ["VirtualMachine"], Owners = ["sample"] };
    public static ServicePropertyQuery ServicePropertyQuery => new()
    {
        PropertyTypes = [ServicePropertyType.Basic, ServicePropertyType.QoSCapabilities],
        PropertyQueries = new Dictionary<string, JsonElement> { ["q1"] = Json("""{"Detail":true}""") },
    };
    public static BasicInformation BasicInformation => new() { SupportedSchemaVersions = [V25], ServiceVersion = "0.14.0" };
    public static ServiceProperties ServiceProperties => new()
    {
        Properties = [Json("""{"SupportedSchemaVersions":[{"Major":2,"Minor":5}]}""")],
        PropertyResponses = new Dictionary<string, PropertyResponse> { ["q1"] = PropertyResponse },
    };
    public static ModificationRequest ModificationRequest => new() { PropertyType = ModificationPropertyType.CpuGroup, Settings = Json("""{"Id":"g"}""") };
    public static HostProcessorModificationRequest HostProcessorModificationRequest => new() { Operation = CpuGroupOperation.CreateGroup, OperationDetails = Json("""{"GroupId":"g"}""") };

    // Lifecycle and processes.
    public static HostedNotification HostedNotification => new() { Reason = PauseReason.Template };
    public static PauseOptions PauseOptions => new() { SuspensionLevel = PauseSuspensionLevel.MemoryLow, HostedNotification = HostedNotification };
    public static SaveOptions SaveOptions => new() { SaveType = SaveType.ToFile, SaveStateFilePath = "/vm/saved.vmrs" };
    public static ShutdownOptions ShutdownOptions => new() { Mechanism = ShutdownMechanism.GuestConnection, Type = ShutdownType.Reboot, Force = true, Reason = "maintenance" };
    public static CrashOptions CrashOptions => new() { Type = CrashType.CrashGuest };
    public static WindowsCrashReport WindowsCrashReport => new()
    {
        DumpFile = "/var/crash/vm.dmp",
        OsMajorVersion = 10,
        OsMinorVersion = 0,
        OsBuildNumber = 20348,
        OsServicePackMajorVersion = 0,
        OsServicePackMinorVersion = 0,
        OsSuiteMask = 272,
        OsProductType = 3,
        Status = 0,
        FinalPhase = WindowsCrashPhase.Complete,
    };
    public static CrashReport CrashReport => new()
    {
        SystemId = "vm-1",
        ActivityId = G1,
        WindowsCrashInfo = WindowsCrashReport,
        CrashParameters = [0x7E, 0xC0000005, 0, 0, ulong.MaxValue],
        CrashLog = "Kernel panic",
        Status = -2147467259,
        PreOSId = 1,
        CrashStackUnavailable = false,
    };
    public static ModifySettingRequest ModifySettingRequest => new()
    {
        ResourcePath = "VirtualMachine/Devices/Scsi/0/Attachments/1",
        RequestType = ModifyRequestType.Add,
        Settings = Json("""{"Type":"VirtualDisk","Path":"/d.vhdx"}"""),
        GuestRequest = Json("""{"ResourceType":"MappedVirtualDisk"}"""),
    };
    public static ProcessParameters ProcessParameters => new()
    {
        ApplicationName = "/bin/sh",
        CommandLine = "/bin/sh -c 'echo hi'",
        CommandArgs = ["/bin/sh", "-c", "echo hi"],
        User = "root",
        WorkingDirectory = "/",
        Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["TERM"] = "xterm" },
        RestrictedToken = false,
        EmulateConsole = true,
        CreateStdInPipe = true,
        CreateStdOutPipe = true,
        CreateStdErrPipe = false,
        ConsoleSize = [24, 80],
        UseExistingLogin = false,
        UseLegacyConsole = false,
    };
    public static ProcessStatus ProcessStatus => new() { ProcessId = 42, Exited = true, ExitCode = 137, LastWaitResult = -1 };
    public static ConsoleSize ConsoleSize => new() { Height = 50, Width = 132 };
    public static CloseHandle CloseHandle => new() { Handle = StdHandle.StdIn };
    public static ProcessModifyRequest ProcessModifyRequest => new() { Operation = ModifyOperation.ConsoleSize, ConsoleSize = ConsoleSize, CloseHandle = CloseHandle };

    // Error documents (src/Hcs.Schema/Errors).
    public static EventData EventData => new() { Type = EventDataType.UInt32, Value = "7" };
    public static ErrorEvent ErrorEvent => new()
    {
        Message = "disk not found",
        StackTrace = "at Attach()",
        Provider = G1,
        EventId = 12,
        Flags = 1,
        Source = "hcs.engine",
        Data = [EventData],
    };
    public static WorkerExit WorkerExit => new() { ExitCode = 137, Type = WorkerExitType.UnexpectedStop, Detail = WorkerExitDetail.ProcessUnexpectedExit, Initiator = ExitInitiator.Unknown };
    public static GuestCrash GuestCrash => new() { CrashParameters = [0x7E, 1, 2, 3, 4] };
    public static TripleFault TripleFault => new() { ErrorType = 3 };
    public static InjectNonMaskableInterrupt InjectNonMaskableInterrupt => new() { Initiator = ExitInitiator.Client };
    public static OperationFailure OperationFailure => new() { Detail = OperationFailureDetail.Construct };
    public static SystemExit SystemExit => new() { Detail = SystemExitDetail.Terminate, Initiator = ExitInitiator.Client };
    public static VirtualDeviceFailure VirtualDeviceFailure => new() { Detail = VirtualDeviceFailureDetail.Start };
    public static SystemExitStatus SystemExitStatus => new()
    {
        Status = HResults.HCS_E_UNEXPECTED_EXIT,
        ExitType = NotificationType.UnexpectedExit,
        Attribution = [new AttributionRecord { WorkerExit = WorkerExit }, new AttributionRecord { GuestCrash = GuestCrash }],
    };

    public static RemoteConsoleStateChange RemoteConsoleStateChange => new()
    {
        Connected = true,
        State = RemoteConsoleState.Initialized,
        Protocol = "vnc",
        Endpoint = "/run/hcs/vm1/vnc.sock",
        Clients = 1,
        Timestamp = T1,
    };
    public static GuestConnectionClosedInfo GuestConnectionClosedInfo => new()
    {
        Reason = "the guest closed the port",
        Port = "0",
        Name = "org.hcs.agent",
        NamedPipe = "/run/hcs/vm1/agent.sock",
        Timestamp = T1,
    };

    /// <summary>Every sample, named <c>Type</c> or <c>Type/variant</c>.</summary>
    public static IReadOnlyList<Sample> All { get; } =
    [
        Of(V25),
        Of(new ComputeSystem { SchemaVersion = V25, Owner = "sample", VirtualMachine = VirtualMachine, ShouldTerminateOnLastHandleClosed = true }, "VirtualMachine"),
        Of(new ComputeSystem { SchemaVersion = V25, Owner = "sample", Container = Container }, "Container"),
        Of(new ComputeSystem { SchemaVersion = V21, Owner = "sample", HostingSystemId = "uvm-1", HostedSystem = HostedSystem }, "HostedSystem"),
        Of(HostedSystem), Of(VirtualMachine), Of(Chipset), Of(Uefi), Of(UefiBootEntry), Of(LinuxKernelDirect), Of(FirmwareFile),
        Of(Topology), Of(VirtualMachineMemory), Of(VirtualMachineProcessor), Of(ProcessorLimits), Of(CpuGroup), Of(Devices), Of(ComPort), Of(VirtioSerial),
        Of(VirtioSerialPort), Of(Scsi), Of(Attachment), Of(VirtualPMemController), Of(VirtualPMemDevice), Of(VirtualPMemMapping),
        Of(NetworkAdapter), Of(IovSettings), Of(VideoMonitor), Of(EnhancedModeVideo), Of(new Keyboard()), Of(new Mouse()), Of(new Battery()),
        Of(GuestCrashReporting), Of(WindowsCrashReporting), Of(HvSocket), Of(HvSocketSystemConfig), Of(HvSocketServiceConfig),
        Of(ContainerHvSocket), Of(Plan9), Of(Plan9Share), Of(VirtualSmb), Of(VirtualSmbShare), Of(VirtualSmbShareOptions),
        Of(VirtualPciDevice), Of(VirtualPciFunction), Of(GuestState), Of(RestoreState), Of(RegistryChanges), Of(RegistryKey),
        Of(RegistryValue), Of(StorageQoS), Of(DebugOptions), Of(GuestConnection), Of(SecuritySettings), Of(IsolationSettings),
        Of(Container), Of(GuestOs), Of(Storage), Of(Layer), Of(MappedDirectory), Of(MappedPipe), Of(ContainerMemory),
        Of(new ContainerProcessor { Count = 2 }, "Count"), Of(new ContainerProcessor { Maximum = 5000 }, "Maximum"),
        Of(new ContainerProcessor { Weight = 100 }, "Weight"), Of(Networking), Of(Device),
        Of(Properties), Of(PropertyResponse), Of(SystemPropertyQuery), Of(SystemQuery), Of(Statistics), Of(ProcessorStats),
        Of(MemoryStats), Of(StorageStats), Of(ProcessDetails), Of(MemoryInformationForVm), Of(VmMemory), Of(GuestConnectionInfo),
        Of(ServicePropertyQuery), Of(ServiceProperties), Of(BasicInformation), Of(ModificationRequest), Of(HostProcessorModificationRequest),
        Of(PauseOptions), Of(HostedNotification), Of(SaveOptions), Of(ShutdownOptions), Of(CrashOptions), Of(CrashReport),
        Of(WindowsCrashReport), Of(ModifySettingRequest), Of(ProcessParameters), Of(ProcessStatus),
        Of(SignalProcessOptions.Named(ProcessSignal.CtrlBreak), "Named"), Of(SignalProcessOptions.Posix(15), "Posix"),
        Of(ProcessModifyRequest), Of(ConsoleSize), Of(CloseHandle), Of(RemoteConsoleStateChange), Of(GuestConnectionClosedInfo),
        Of(ResultError), Of(ErrorEvent), Of(EventData), Of(SystemExitStatus), Of(WorkerExit), Of(GuestCrash), Of(TripleFault),
        Of(InjectNonMaskableInterrupt), Of(OperationFailure), Of(SystemExit), Of(VirtualDeviceFailure),
        Of(new AttributionRecord { WorkerExit = WorkerExit }, "WorkerExit"), Of(new AttributionRecord { GuestCrash = GuestCrash }, "GuestCrash"),
        Of(new AttributionRecord { TripleFault = TripleFault }, "TripleFault"),
        Of(new AttributionRecord { InjectNonMaskableInterrupt = InjectNonMaskableInterrupt }, "InjectNonMaskableInterrupt"),
        Of(new AttributionRecord { OperationFailure = OperationFailure }, "OperationFailure"),
        Of(new AttributionRecord { SystemExit = SystemExit }, "SystemExit"),
        Of(new AttributionRecord { VirtualDeviceFailure = VirtualDeviceFailure }, "VirtualDeviceFailure"),
    ];

    public static Sample Get(string name) => All.Single(s => s.Name == name);

    private static Sample Of<T>(T value, string? variant = null) where T : class =>
        new(typeof(T), variant is null ? typeof(T).Name : $"{typeof(T).Name}/{variant}", value,
            v => HcsJson.Serialize((T)v), j => HcsJson.Deserialize<T>(j));
}
