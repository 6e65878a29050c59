// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema.Tests;

/// <summary>Every malformed document is HCS_E_INVALID_JSON naming the exact JSON path and the reason.</summary>
public sealed class MalformedDocumentTests
{
    private static readonly string s_v21 = "\"SchemaVersion\":{\"Major\":2,\"Minor\":1}";

    public static TheoryData<string, string, string, string, string> Cases() => new()
    {
        // case, document type, JSON, expected path, reason keyword
        { "unknown member at the root", "ComputeSystem", "{" + s_v21 + ""","Foo":1,"VirtualMachine":{}}""", "$.Foo", "unknown member 'Foo'" },
        { "unknown member in VirtualMachine", "ComputeSystem", """{"VirtualMachine":{"Foo":true}}""", "$.VirtualMachine.Foo", "unknown member 'Foo' of VirtualMachine" },
        { "unknown member three levels down", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"SizeInMB":1024,"Huge":true}}}}""", "$.VirtualMachine.ComputeTopology.Memory.Huge", "unknown member 'Huge'" },
        { "unknown member inside map values", "ComputeSystem", """{"VirtualMachine":{"Devices":{"Scsi":{"Primary disk":{"Attachments":{"0":{"Type":"VirtualDisk","Bogus":1}}}}}}}""", "$.VirtualMachine.Devices.Scsi['Primary disk'].Attachments['0'].Bogus", "unknown member 'Bogus' of Attachment" },
        { "unknown member inside an array element", "ComputeSystem", """{"Container":{"MappedDirectories":[{"HostPath":"/a"},{"HostPath":"/b","Extra":1}]}}""", "$.Container.MappedDirectories[1].Extra", "unknown member 'Extra'" },
        { "member name with the wrong case", "ComputeSystem", """{"VirtualMachine":{"computeTopology":{}}}""", "$.VirtualMachine.computeTopology", "case-sensitive" },
        { "string where a number is expected", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"SizeInMB":"1024"}}}}""", "$.VirtualMachine.ComputeTopology.Memory.SizeInMB", "expected a number, got a string" },
        { "number where a string is expected", "ComputeSystem", """{"Owner":5,"VirtualMachine":{}}""", "$.Owner", "expected a string, got a number" },
        { "object where an array is expected", "ComputeSystem", """{"Container":{"MappedDirectories":{}}}""", "$.Container.MappedDirectories", "expected an array, got an object" },
        { "array where an object is expected", "ComputeSystem", """{"VirtualMachine":[]}""", "$.VirtualMachine", "expected an object (VirtualMachine), got an array" },
        { "string where a boolean is expected", "ComputeSystem", """{"VirtualMachine":{},"ShouldTerminateOnLastHandleClosed":"true"}""", "$.ShouldTerminateOnLastHandleClosed", "expected a boolean, got a string" },
        { "unknown enum string", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"Backing":"Huge"}}}}""", "$.VirtualMachine.ComputeTopology.Memory.Backing", "unknown value 'Huge' for MemoryBackingType" },
        { "integer for an enum", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"Backing":1}}}}""", "$.VirtualMachine.ComputeTopology.Memory.Backing", "expected a string naming a MemoryBackingType value, got a number" },
        { "enum string with the wrong case", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"Backing":"physical"}}}}""", "$.VirtualMachine.ComputeTopology.Memory.Backing", "unknown value 'physical'" },
        { "numeric string for an enum", "Attachment", """{"Type":"0"}""", "$.Type", "unknown value '0' for AttachmentType" },
        { "SchemaVersion without Major", "ComputeSystem", """{"SchemaVersion":{"Minor":1},"VirtualMachine":{}}""", "$.SchemaVersion.Major", "required member 'Major' is missing" },
        { "Version without Minor", "Version", """{"Major":2}""", "$.Minor", "required member 'Minor' is missing" },
        { "both Container and VirtualMachine", "ComputeSystem", """{"Container":{},"VirtualMachine":{}}""", "$", "exactly one of Container, VirtualMachine, HostedSystem must be set; Container and VirtualMachine are set" },
        { "none of Container, VirtualMachine, HostedSystem", "ComputeSystem", "{" + s_v21 + ""","Owner":"x"}""", "$", "exactly one of Container, VirtualMachine, HostedSystem must be set; none is set" },
        { "HostedSystem without HostingSystemId", "ComputeSystem", """{"HostedSystem":{"Container":{}}}""", "$.HostingSystemId", "required when HostedSystem is set" },
        { "HostingSystemId without HostedSystem", "ComputeSystem", """{"HostingSystemId":"uvm","Container":{}}""", "$.HostingSystemId", "only valid together with HostedSystem" },
        { "SchemaVersion 1.0", "ComputeSystem", """{"SchemaVersion":{"Major":1,"Minor":0},"VirtualMachine":{}}""", "$.SchemaVersion", "schema 1 documents are not supported" },
        { "SchemaVersion 2.99", "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":99},"VirtualMachine":{}}""", "$.SchemaVersion", "unsupported SchemaVersion 2.99: this service supports 2.0–2.5" },
        { "SchemaVersion 3.0", "ComputeSystem", """{"SchemaVersion":{"Major":3,"Minor":0},"VirtualMachine":{}}""", "$.SchemaVersion", "unsupported SchemaVersion 3.0" },
        { "HostedSystem SchemaVersion 3.0", "ComputeSystem", """{"HostingSystemId":"uvm","HostedSystem":{"SchemaVersion":{"Major":3,"Minor":0},"Container":{}}}""", "$.HostedSystem.SchemaVersion", "unsupported SchemaVersion 3.0" },
        { "LinuxKernelDirect in a 2.1 document", "ComputeSystem", "{" + s_v21 + ""","VirtualMachine":{"Chipset":{"LinuxKernelDirect":{}}}}""", "$.VirtualMachine.Chipset.LinuxKernelDirect", "Chipset.LinuxKernelDirect requires SchemaVersion 2.2 or later, but the document's SchemaVersion is 2.1" },
        { "VirtioSerial when SchemaVersion is omitted", "ComputeSystem", """{"VirtualMachine":{"Devices":{"VirtioSerial":{}}}}""", "$.VirtualMachine.Devices.VirtioSerial", "2.1 (the default when SchemaVersion is omitted)" },
        { "StopOnBootFailure in a 2.1 document", "ComputeSystem", "{" + s_v21 + ""","VirtualMachine":{"Chipset":{"Uefi":{"StopOnBootFailure":true}}}}""", "$.VirtualMachine.Chipset.Uefi.StopOnBootFailure", "requires SchemaVersion 2.2" },
        { "SupportCompressedVolumes in a 2.2 document", "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":2},"VirtualMachine":{"Devices":{"Scsi":{"0":{"Attachments":{"0":{"SupportCompressedVolumes":true}}}}}}}""", "$.VirtualMachine.Devices.Scsi['0'].Attachments['0'].SupportCompressedVolumes", "requires SchemaVersion 2.3" },
        { "UseHostTimeZone in a 2.3 document", "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":3},"VirtualMachine":{"GuestConnection":{"UseHostTimeZone":true}}}""", "$.VirtualMachine.GuestConnection.UseHostTimeZone", "requires SchemaVersion 2.4" },
        { "VirtualMachine.Version in a 2.4 document", "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":4},"VirtualMachine":{"Version":{"Major":9,"Minor":0}}}""", "$.VirtualMachine.Version", "VirtualMachine.Version requires SchemaVersion 2.5" },
        { "UseUtc in a 2.0 document", "ComputeSystem", """{"SchemaVersion":{"Major":2,"Minor":0},"VirtualMachine":{"Chipset":{"UseUtc":true}}}""", "$.VirtualMachine.Chipset.UseUtc", "requires SchemaVersion 2.1" },
        { "truncated document", "ComputeSystem", "{" + s_v21 + ""","VirtualMachine":{"Chipset":{""", "$.VirtualMachine.Chipset", "truncated" },
        { "trailing comma", "ComputeSystem", """{"VirtualMachine":{"StopOnReset":true,}}""", "$.VirtualMachine.StopOnReset", "malformed JSON at line 1, byte 39: trailing commas are not allowed" },
        { "comment", "ComputeSystem", "{\"VirtualMachine\":{} /* vm */}", "$.VirtualMachine", "comments are not allowed" },
        { "single-quoted strings", "ComputeSystem", "{'VirtualMachine':{}}", "$", "must use double quotes" },
        { "multi-line document reports the line", "ComputeSystem", "{\n  \"VirtualMachine\": {\n    \"StopOnReset\": tru\n  }\n}", "$.VirtualMachine.StopOnReset", "line 3" },
        { "empty document", "ComputeSystem", "", "$", "the document is empty" },
        { "duplicate member", "ComputeSystem", """{"Owner":"a","Owner":"b","VirtualMachine":{}}""", "$.Owner", "duplicate member 'Owner'" },
        { "duplicate map key", "ComputeSystem", """{"VirtualMachine":{"Devices":{"ComPorts":{"0":{},"0":{}}}}}""", "$.VirtualMachine.Devices.ComPorts['0']", "duplicate key '0'" },
        { "negative number for uint32", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Processor":{"Count":-1}}}}""", "$.VirtualMachine.ComputeTopology.Processor.Count", "value -1 is out of range for uint32" },
        { "uint64 overflow", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"SizeInMB":18446744073709551616}}}}""", "$.VirtualMachine.ComputeTopology.Memory.SizeInMB", "out of range for uint64" },
        { "uint16 overflow", "ComputeSystem", """{"VirtualMachine":{"Chipset":{"Uefi":{"BootThis":{"DiskNumber":70000}}}}}""", "$.VirtualMachine.Chipset.Uefi.BootThis.DiskNumber", "out of range for uint16 (0–65535)" },
        { "fraction for an integer", "VirtualMachineProcessor", """{"Count":1.5}""", "$.Count", "expected an integer (uint32), got 1.5" },
        { "top-level array", "ComputeSystem", """[{"VirtualMachine":{}}]""", "$", "expected an object (ComputeSystem), got an array" },
        { "top-level string", "ModifySettingRequest", "\"Add\"", "$", "expected an object (ModifySettingRequest), got a string" },
        { "null document", "ComputeSystem", "null", "$", "the document is null" },
        { "object where a list of Properties is expected", "PropertiesList", "{}", "$", "expected an array, got an object" },
        { "processor count 0", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Processor":{"Count":0}}}}""", "$.VirtualMachine.ComputeTopology.Processor.Count", "Count must be at least 1" },
        { "memory size 0", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Memory":{"SizeInMB":0}}}}""", "$.VirtualMachine.ComputeTopology.Memory.SizeInMB", "SizeInMB must be greater than 0" },
        { "VM processor limit above 100000", "VirtualMachineProcessor", """{"Limit":100001}""", "$.Limit", "Limit must be between 1 and 100000" },
        { "VM processor limit 0", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Processor":{"Limit":0}}}}""", "$.VirtualMachine.ComputeTopology.Processor.Limit", "Limit must be between 1 and 100000, got 0" },
        { "VM processor weight above 10000", "ComputeSystem", """{"VirtualMachine":{"ComputeTopology":{"Processor":{"Weight":10001}}}}""", "$.VirtualMachine.ComputeTopology.Processor.Weight", "Weight must be between 0 and 10000" },
        { "ProcessorLimits limit above 100000", "ProcessorLimits", """{"Limit":100001}""", "$.Limit", "Limit must be between 1 and 100000" },
        { "ProcessorLimits weight above 10000", "ProcessorLimits", """{"Weight":20000}""", "$.Weight", "Weight must be between 0 and 10000" },
        { "ProcessorLimits unknown member", "ProcessorLimits", """{"Limit":5000,"Cap":1}""", "$.Cap", "unknown member 'Cap' of ProcessorLimits" },
        { "CrashReport ActivityId not a GUID", "CrashReport", """{"SystemId":"vm","ActivityId":"x"}""", "$.ActivityId", "'x' is not a valid GUID" },
        { "container Count and Maximum together", "ComputeSystem", """{"Container":{"Processor":{"Count":2,"Maximum":5000}}}""", "$.Container.Processor", "mutually exclusive for a container, but Count and Maximum are set" },
        { "container Maximum and Weight together", "ContainerProcessor", """{"Maximum":5000,"Weight":10}""", "$", "Maximum and Weight are set" },
        { "hosted container memory 0", "ComputeSystem", """{"HostingSystemId":"uvm","HostedSystem":{"Container":{"Memory":{"SizeInMB":0}}}}""", "$.HostedSystem.Container.Memory.SizeInMB", "greater than 0" },
        { "ConsoleSize with 3 elements", "ProcessParameters", """{"ConsoleSize":[24,80,1]}""", "$.ConsoleSize", "exactly 2 elements" },
        { "ModifySettingRequest without ResourcePath or GuestRequest", "ModifySettingRequest", """{"RequestType":"Add"}""", "$.ResourcePath", "needs ResourcePath or GuestRequest" },
        { "empty ModifySettingRequest", "ModifySettingRequest", "{}", "$.ResourcePath", "required member 'ResourcePath' is missing" },
        { "ProcessModifyRequest CloseHandle without CloseHandle", "ProcessModifyRequest", """{"Operation":"CloseHandle"}""", "$.CloseHandle", "required member 'CloseHandle' is missing" },
        { "ProcessModifyRequest ConsoleSize without ConsoleSize", "ProcessModifyRequest", """{"Operation":"ConsoleSize","CloseHandle":{"Handle":"All"}}""", "$.ConsoleSize", "required member 'ConsoleSize' is missing" },
        { "ProcessModifyRequest without Operation", "ProcessModifyRequest", "{}", "$.Operation", "required member 'Operation' is missing" },
        { "unknown signal name", "SignalProcessOptions", """{"Signal":"CtrlZ"}""", "$.Signal", "unknown value 'CtrlZ' for ProcessSignal" },
        { "signal number out of range", "SignalProcessOptions", """{"Signal":99}""", "$.Signal", "signal 99 is out of range" },
        { "signal as an object", "SignalProcessOptions", """{"Signal":{}}""", "$.Signal", "got an object" },
        { "bad GUID", "ComputeSystem", """{"Container":{"Storage":{"Layers":[{"Id":"not-a-guid"}]}}}""", "$.Container.Storage.Layers[0].Id", "'not-a-guid' is not a valid GUID" },
        { "bad date-time", "Statistics", """{"Timestamp":"yesterday"}""", "$.Timestamp", "'yesterday' is not a valid date-time" },
        { "null for a non-nullable member", "ProcessStatus", """{"ProcessId":null}""", "$.ProcessId", "expected a number, got null" },
        { "null array element", "SystemQuery", """{"Ids":["a",null]}""", "$.Ids[1]", "expected a string, got null" },
        { "unknown property type in a query", "SystemPropertyQuery", """{"PropertyTypes":["Memory","Everything"]}""", "$.PropertyTypes[1]", "unknown value 'Everything' for SystemPropertyType" },
        { "SCSI LUN key that is not a number", "ComputeSystem", """{"VirtualMachine":{"Devices":{"Scsi":{"c0":{"Attachments":{"first":{}}}}}}}""", "$.VirtualMachine.Devices.Scsi.c0.Attachments.first", "map key 'first' is not a LUN" },
        { "HvSocket service key that is not a GUID", "ComputeSystem", """{"VirtualMachine":{"Devices":{"HvSocket":{"HvSocketConfig":{"ServiceTable":{"ssh":{}}}}}}}""", "$.VirtualMachine.Devices.HvSocket.HvSocketConfig.ServiceTable.ssh", "is not a service GUID" },
        { "unknown attribution member in a ResultError", "ResultError", """{"Error":0,"Attribution":[{"Crash":{}}]}""", "$.Attribution[0].Crash", "unknown member 'Crash' of AttributionRecord" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MalformedDocumentIsInvalidJsonNamingPathAndReason(string @case, string type, string json, string path, string keyword)
    {
        var ex = Assert.Throws<HcsException>(() => Parsers.Parse(type, json));

        Assert.True(ex.HResult == HResults.HCS_E_INVALID_JSON, $"{@case}: HResult 0x{ex.HResult:X8}");
        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.Result.Error);
        Assert.Contains($"{path}: ", ex.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains($"{path}: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(keyword, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTableHasAtLeastForty()
    {
        Assert.True(Cases().Count >= 40);
    }
}
