// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

public sealed class ContainerValidationTests
{
    private const string Layers = """ "Layers":[{"Id":"3f2504e0-4f89-11d3-9a0c-0305e82c3301","Path":"/var/lib/hcs/layers/base","PathType":"AbsolutePath"},{"Path":"/var/lib/hcs/layers/app"}]""";

    private const string DefaultStorage = "{" + Layers + ""","Path":"/var/lib/hcs/scratch/c1"}""";

    private static ComputeSystem Document(string containerMembers, string storage = DefaultStorage) =>
        HcsJson.ParseComputeSystem("""{"SchemaVersion":{"Major":2,"Minor":5},"Container":{"Storage":""" + storage + (containerMembers.Length > 0 ? "," : "") + containerMembers + "}}");

    [Fact]
    public void EveryHonouredMember_IsAccepted()
    {
        var document = Document("""
            "GuestOs":{"HostName":"web-1.example"},
            "MappedDirectories":[{"HostPath":"/srv/data","HostPathType":"AbsolutePath","ContainerPath":"/data","ReadOnly":true,"SupportCloudFiles":false},
                                 {"HostPath":"/srv/logs","ContainerPath":"/var/log/app"}],
            "Memory":{"SizeInMB":256},
            "Processor":{"Count":2},
            "Networking":{"Namespace":"blue"}
            """);

        ContainerValidation.Validate(document);
        ContainerValidation.Validate(Document("""
            "Processor":{"Maximum":5000},"Networking":{"Namespace":"/proc/1/ns/net"}
            """, """{"Layers":[{"Path":"/l"}]}"""));
        ContainerValidation.Validate(Document("""
            "Processor":{"Weight":0}
            """));
    }

    public static TheoryData<string, string, string> Refused => new()
    {
        { "'MappedPipes':[{'ContainerPipeName':'p','HostPath':'/run/p.sock'}]", "", "$.Container.MappedPipes" },
        { "'HvSocket':{'EnablePowerShellDirect':true}", "", "$.Container.HvSocket" },
        { "'ContainerCredentialGuard':{'Id':'x'}", "", "$.Container.ContainerCredentialGuard" },
        { "'RegistryChanges':{}", "", "$.Container.RegistryChanges" },
        { "'AssignedDevices':[{'Type':'ClassGuid'}]", "", "$.Container.AssignedDevices" },
        { "'AdditionalDeviceNamespace':{}", "", "$.Container.AdditionalDeviceNamespace" },
        { "", "{" + Layers + ""","QoS":{}}""", "$.Container.Storage.QoS" },
        { "", "{" + Layers + ""","PrivilegedContainerRootPath":"/x"}""", "$.Container.Storage.PrivilegedContainerRootPath" },
        { "", "{'Layers':[{'Path':'/l0'},{'Path':'/l1','Cache':'Enabled'}]}", "$.Container.Storage.Layers[1].Cache" },
        { "", "{'Layers':[{'Path':'share','PathType':'VirtualSmbShareName'}]}", "$.Container.Storage.Layers[0].PathType" },
        { "'Networking':{'AllowUnqualifiedDnsQuery':true}", "", "$.Container.Networking.AllowUnqualifiedDnsQuery" },
        { "'Networking':{'DnsSearchList':'a.example'}", "", "$.Container.Networking.DnsSearchList" },
        { "'Networking':{'NetworkSharedContainerName':'other'}", "", "$.Container.Networking.NetworkSharedContainerName" },
        { "'Networking':{'NetworkAdapters':['3f2504e0-4f89-11d3-9a0c-0305e82c3301']}", "", "$.Container.Networking.NetworkAdapters" },
        { "'Networking':{'Namespace':'../etc'}", "", "$.Container.Networking.Namespace" },
        { "'Networking':{'Namespace':'a b'}", "", "$.Container.Networking.Namespace" },
        { "'Networking':{'Namespace':'/var/run/netns/../x'}", "", "$.Container.Networking.Namespace" },
        { "'MappedDirectories':[{'HostPath':'/a','ContainerPath':'/a'},{'HostPath':'/b','ContainerPath':'/b','SupportCloudFiles':true}]", "", "$.Container.MappedDirectories[1].SupportCloudFiles" },
        { "'MappedDirectories':[{'HostPath':'share','HostPathType':'VirtualSmbShareName','ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPathType" },
        { "'MappedDirectories':[{'ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPath" },
        { "'MappedDirectories':[{'HostPath':'relative/dir','ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPath" },
        { "'MappedDirectories':[{'HostPath':'/srv/../etc','ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPath" },
        { "'MappedDirectories':[{'HostPath':'/srv/a\\nb','ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPath" },
        { "'MappedDirectories':[{'HostPath':'/srv'}]", "", "$.Container.MappedDirectories[0].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/srv','ContainerPath':'data'}]", "", "$.Container.MappedDirectories[0].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/srv','ContainerPath':'/data/../../etc'}]", "", "$.Container.MappedDirectories[0].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/srv','ContainerPath':'/'}]", "", "$.Container.MappedDirectories[0].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/srv','ContainerPath':'/.hcs/init'}]", "", "$.Container.MappedDirectories[0].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/a','ContainerPath':'/data'},{'HostPath':'/b','ContainerPath':'/data/'}]", "", "$.Container.MappedDirectories[1].ContainerPath" },
        { "'MappedDirectories':[{'HostPath':'/srv\\u0000x','ContainerPath':'/a'}]", "", "$.Container.MappedDirectories[0].HostPath" },
        { "'GuestOs':{'HostName':''}", "", "$.Container.GuestOs.HostName" },
        { "'GuestOs':{'HostName':'under_score'}", "", "$.Container.GuestOs.HostName" },
        { "'GuestOs':{'HostName':'-leading'}", "", "$.Container.GuestOs.HostName" },
        { "'GuestOs':{'HostName':'a..b'}", "", "$.Container.GuestOs.HostName" },
        { "'GuestOs':{'HostName':'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}", "", "$.Container.GuestOs.HostName" },
        { "'Memory':{'SizeInMB':18446744073709551615}", "", "$.Container.Memory.SizeInMB" },
        { "", "null", "$.Container.Storage" },
        { "", "{'Path':'/scratch'}", "$.Container.Storage.Layers" },
        { "", "{'Layers':[]}", "$.Container.Storage.Layers" },
        { "", "{'Layers':[{'Id':'3f2504e0-4f89-11d3-9a0c-0305e82c3301'}]}", "$.Container.Storage.Layers[0].Path" },
        { "", "{'Layers':[{'Path':'/l0'},{'Path':'/l,upperdir=/etc'}]}", "$.Container.Storage.Layers[1].Path" },
        { "", "{'Layers':[{'Path':'/l0:/l1'}]}", "$.Container.Storage.Layers[0].Path" },
        { "", "{'Layers':[{'Path':'/l\\\\0'}]}", "$.Container.Storage.Layers[0].Path" },
        { "", "{'Layers':[{'Path':'/l=0'}]}", "$.Container.Storage.Layers[0].Path" },
        { "", "{'Layers':[{'Path':'layers/l0'}]}", "$.Container.Storage.Layers[0].Path" },
        { "", "{'Layers':[{'Path':'/l0'}],'Path':'/scratch,x'}", "$.Container.Storage.Path" },
        { "", "{'Layers':[{'Path':'/l0'}],'Path':'/scratch/../..'}", "$.Container.Storage.Path" },
    };

    [Fact]
    public void HugeOffendingValues_AreQuotedTruncated()
    {
        var document = Document("\"GuestOs\":{\"HostName\":\"" + new string('h', 1_000_000) + "\"}");

        var e = Assert.Throws<HcsException>(() => ContainerValidation.Validate(document));

        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        Assert.True(e.Message.Length < 1000, $"a {e.Message.Length}-char message");
        Assert.Contains("…(1000000 chars)", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void UnsupportedOrUnsafeMember_IsRefusedByItsExactPath(string containerMembers, string storage, string path)
    {
        containerMembers = containerMembers.Replace('\'', '"');
        var document = storage.Length > 0 ? Document(containerMembers, storage.Replace('\'', '"')) : Document(containerMembers);

        var reason = HcsAssert.InvalidJsonAt(path, () => ContainerValidation.Validate(document));

        Assert.False(string.IsNullOrWhiteSpace(reason));
    }

    [Fact]
    public void AVirtualMachineDocument_IsRefused()
    {
        var document = new ComputeSystem { VirtualMachine = new VirtualMachine() };

        HcsAssert.InvalidJsonAt("$.VirtualMachine", () => ContainerValidation.Validate(document));
    }

    [Fact]
    public void ProcessorCountMaximumAndWeight_AreMutuallyExclusiveAlreadyWhenParsed()
    {
        var e = Assert.Throws<HcsException>(() => Document("""
            "Processor":{"Count":1,"Weight":5}
            """));

        HcsAssert.ReasonAt("$.Container.Processor", e);
    }

    [Fact]
    public void AnOverlayPathError_SaysWhichCharacterIsRefused()
    {
        var reason = HcsAssert.InvalidJsonAt("$.Container.Storage.Layers[0].Path",
            () => ContainerValidation.Validate(Document("", """{"Layers":[{"Path":"/a:b"}]}""")));

        Assert.Contains("':'", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("blue", "/var/run/netns/blue")]
    [InlineData("/proc/42/ns/net", "/proc/42/ns/net")]
    public void NetnsPath_IsANameUnderTheDirectoryOrAnAbsolutePath(string ns, string expected) =>
        Assert.Equal(expected, ContainerValidation.NetnsPath(ns, "/var/run/netns"));
}
