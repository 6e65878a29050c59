// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema.Tests;

public sealed class HcsJsonBehaviourTests
{
    [Fact]
    public void EmptyRecordsSerialiseAsEmptyObjects()
    {
        Assert.Equal("{}", HcsJson.Serialize(new Keyboard()));
        Assert.Equal("{}", HcsJson.Serialize(new Mouse()));
        Assert.Equal("{}", HcsJson.Serialize(new Battery()));
        Assert.Equal("{}", HcsJson.Serialize(new Uefi()));
        Assert.Equal("""{"Keyboard":{},"Mouse":{}}""", HcsJson.Serialize(new Devices { Keyboard = new Keyboard(), Mouse = new Mouse() }));
    }

    [Fact]
    public void NullMembersAreOmittedWhenWriting()
    {
        var json = HcsJson.Serialize(new ComputeSystem { Owner = "o", VirtualMachine = new VirtualMachine() });

        Assert.Equal("""{"Owner":"o","VirtualMachine":{}}""", json);
    }

    [Fact]
    public void ExplicitNullForOptionalMemberIsAccepted()
    {
        var system = HcsJson.ParseComputeSystem("""{"Owner":null,"VirtualMachine":{"Chipset":null}}""");

        Assert.Null(system.Owner);
        Assert.Null(system.VirtualMachine?.Chipset);
    }

    [Fact]
    public void EnumsAreWrittenAsExactNames()
    {
        var json = HcsJson.Serialize(new VirtualMachineMemory { Backing = MemoryBackingType.Virtual, BackingPageSize = MemoryBackingPageSize.Large });

        Assert.Equal("""{"Backing":"Virtual","BackingPageSize":"Large"}""", json);
    }

    [Fact]
    public void UndefinedEnumValueCannotBeWritten()
    {
        var ex = Assert.Throws<HcsException>(() => HcsJson.Serialize(new VirtualMachineMemory { Backing = (MemoryBackingType)42 }));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.Contains("MemoryBackingType", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MapKeysAreWrittenAsStrings()
    {
        var scsi = new Scsi { Attachments = new Dictionary<string, Attachment> { ["0"] = new() { Type = AttachmentType.Iso } } };

        Assert.Equal("""{"Attachments":{"0":{"Type":"Iso"}}}""", HcsJson.Serialize(scsi));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void DeserializeOptionalTreatsBlankAsAbsent(string? json)
    {
        Assert.Null(HcsJson.DeserializeOptional<SystemPropertyQuery>(json));
    }

    [Fact]
    public void DeserializeOptionalStillRejectsMalformedDocuments()
    {
        var ex = Assert.Throws<HcsException>(() => HcsJson.DeserializeOptional<SystemPropertyQuery>("{\"PropertyTypes\":1}"));

        Assert.Contains("$.PropertyTypes: expected an array", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeserializeOfUnknownTypeIsAProgrammingError()
    {
        Assert.Throws<NotSupportedException>(() => HcsJson.Deserialize<Uri>("{}"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void EverySupportedSchemaMinorIsAccepted(int minor)
    {
        var system = HcsJson.ParseComputeSystem("{\"SchemaVersion\":{\"Major\":2,\"Minor\":" + minor + "},\"VirtualMachine\":{}}");

        Assert.Equal((uint)minor, system.SchemaVersion?.Minor);
    }

    [Fact]
    public void OmittedSchemaVersionIsTreatedAsTwoOne()
    {
        Assert.Equal(new Version { Major = 2, Minor = 1 }, HcsJson.DefaultSchemaVersion);
        var system = HcsJson.ParseComputeSystem("""{"VirtualMachine":{"Chipset":{"UseUtc":true}}}""");

        Assert.Null(system.SchemaVersion);
        Assert.True(system.VirtualMachine?.Chipset?.UseUtc);
    }

    [Fact]
    public void NewerFieldIsAcceptedOnceTheSchemaIsNewEnough()
    {
        var system = HcsJson.ParseComputeSystem(
            """{"SchemaVersion":{"Major":2,"Minor":2},"VirtualMachine":{"Chipset":{"LinuxKernelDirect":{"KernelFilePath":"/k"}},"Devices":{"VirtioSerial":{}}}}""");

        Assert.Equal("/k", system.VirtualMachine?.Chipset?.LinuxKernelDirect?.KernelFilePath);
    }

    [Fact]
    public void HostedSystemIsGatedByItsOwnSchemaVersion()
    {
        var system = HcsJson.ParseComputeSystem(
            """{"SchemaVersion":{"Major":2,"Minor":5},"HostingSystemId":"uvm","HostedSystem":{"SchemaVersion":{"Major":2,"Minor":0},"Container":{}}}""");

        Assert.Equal(0U, system.HostedSystem?.SchemaVersion?.Minor);
    }

    [Fact]
    public void StandaloneDocumentIsGatedOnlyWhenAVersionIsGiven()
    {
        const string json = """{"Type":"VirtualDisk","SupportCompressedVolumes":true}""";

        Assert.True(HcsJson.Deserialize<Attachment>(json).SupportCompressedVolumes);
        Assert.True(HcsJson.Deserialize<Attachment>(json, new Version { Major = 2, Minor = 3 }).SupportCompressedVolumes);
        var ex = Assert.Throws<HcsException>(() => HcsJson.Deserialize<Attachment>(json, new Version { Major = 2, Minor = 2 }));
        Assert.Contains("$.SupportCompressedVolumes: Attachment.SupportCompressedVolumes requires SchemaVersion 2.3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedGateVersionIsRejected()
    {
        var ex = Assert.Throws<HcsException>(() => HcsJson.Deserialize<Attachment>("{}", new Version { Major = 3, Minor = 0 }));

        Assert.Contains("unsupported SchemaVersion 3.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ElementIsBoundWithPathsRelativeToItsLocation()
    {
        var request = HcsJson.Deserialize<ModifySettingRequest>(
            """{"ResourcePath":"VirtualMachine/Devices/Scsi/0/Attachments/1","RequestType":"Add","Settings":{"Type":"VirtualDisk","Path":"/d","Foo":1}}""");

        var ex = Assert.Throws<HcsException>(() => HcsJson.Deserialize<Attachment>(request.Settings!.Value, "$.Settings"));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, ex.HResult);
        Assert.Contains("$.Settings.Foo: unknown member 'Foo'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ElementIsBoundWhenValid()
    {
        var element = HcsJson.SerializeToElement(new Attachment { Type = AttachmentType.Iso, Path = "/x.iso" });

        var attachment = HcsJson.Deserialize<Attachment>(element);

        Assert.Equal(AttachmentType.Iso, attachment.Type);
        Assert.Equal("/x.iso", attachment.Path);
    }

    [Fact]
    public void ValidateChecksDocumentsBuiltInCode()
    {
        HcsJson.Validate(new ComputeSystem { VirtualMachine = new VirtualMachine() });

        var ex = Assert.Throws<HcsException>(() => HcsJson.Validate(new ComputeSystem
        {
            VirtualMachine = new VirtualMachine { ComputeTopology = new Topology { Processor = new VirtualMachineProcessor { Count = 0 } } },
        }));
        Assert.Contains("$.VirtualMachine.ComputeTopology.Processor.Count: Count must be at least 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidJsonErrorCarriesAResultErrorDocument()
    {
        var ex = Assert.Throws<HcsException>(() => HcsJson.ParseComputeSystem("""{"Foo":1}"""));

        Assert.Equal("HCS_E_INVALID_JSON", ex.HResultName);
        Assert.Equal(unchecked((int)0x8037010D), ex.Result.Error);
        var @event = Assert.Single(ex.Result.ErrorEvents!);
        Assert.Equal("$.Foo: unknown member 'Foo' of ComputeSystem", @event.Message);
        Assert.True(HcsErrors.IsNotSupported(ex));
    }

    [Fact]
    public void SignalOptionsAcceptNamedAndPosixSignals()
    {
        Assert.Equal("""{"Signal":"CtrlShutdown"}""", HcsJson.Serialize(SignalProcessOptions.Named(ProcessSignal.CtrlShutdown)));
        Assert.Equal("""{"Signal":15}""", HcsJson.Serialize(SignalProcessOptions.Posix(15)));
        Assert.Equal(JsonValueKind.Number, HcsJson.Deserialize<SignalProcessOptions>("""{"Signal":64}""").Signal?.ValueKind);
        Assert.Equal("CtrlLogOff", HcsJson.Deserialize<SignalProcessOptions>("""{"Signal":"CtrlLogOff"}""").Signal?.GetString());
    }

    [Fact]
    public void SignalOptionsExposeTheirTypedValue()
    {
        Assert.True(SignalProcessOptions.Named(ProcessSignal.CtrlC).TryGetNamedSignal(out var named));
        Assert.Equal(ProcessSignal.CtrlC, named);
        Assert.False(SignalProcessOptions.Named(ProcessSignal.CtrlC).TryGetPosixSignal(out _));
        Assert.True(SignalProcessOptions.Posix(9).TryGetPosixSignal(out var posix));
        Assert.Equal(9, posix);
        Assert.False(SignalProcessOptions.Posix(9).TryGetNamedSignal(out _));
    }

    [Fact]
    public void HostedSystemWithoutSchemaVersionInheritsTheEnclosingOne()
    {
        var system = HcsJson.ParseComputeSystem(
            """{"SchemaVersion":{"Major":2,"Minor":5},"HostingSystemId":"uvm","HostedSystem":{"Container":{}}}""");

        Assert.Null(system.HostedSystem?.SchemaVersion);
    }

    [Fact]
    public void AnyMembersKeepArbitraryJson()
    {
        var request = HcsJson.Deserialize<ModifySettingRequest>("""{"ResourcePath":"X","Settings":[1,"two",{"three":null}]}""");

        Assert.Equal("""[1,"two",{"three":null}]""", request.Settings?.GetRawText());
    }

    [Fact]
    public void PropertiesListParsesEnumerationResults()
    {
        var list = HcsJson.Deserialize<IReadOnlyList<Properties>>("""[{"Id":"a","SystemType":"Container","State":"Running"}]""");

        var only = Assert.Single(list);
        Assert.Equal(SystemState.Running, only.State);
    }

    [Fact]
    public void VersionFormatsAsMajorDotMinor()
    {
        Assert.Equal("2.5", HcsJson.MaximumSchemaVersion.ToString());
        Assert.Equal("2.0", HcsJson.MinimumSchemaVersion.ToString());
        Assert.True(HcsJson.IsSupportedSchemaVersion(new Version { Major = 2, Minor = 3 }));
        Assert.False(HcsJson.IsSupportedSchemaVersion(new Version { Major = 2, Minor = 6 }));
    }

    [Fact]
    public void DeeplyNestedAnyIsLimitedByMaxDepth()
    {
        var json = "{\"ResourcePath\":\"X\",\"Settings\":" + new string('[', 100) + new string(']', 100) + "}";

        var ex = Assert.Throws<HcsException>(() => HcsJson.Deserialize<ModifySettingRequest>(json));

        Assert.Contains("malformed JSON", ex.Message, StringComparison.Ordinal);
    }
}
