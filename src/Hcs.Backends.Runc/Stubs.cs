// Copyright (c) hcs contributors. Licensed under the MIT licence.
// TEMPORARY: signatures of the spec branch, replaced by the real implementations at merge.

using System.Text.Json.Nodes;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

internal static class ContainerValidation
{
    public static void Validate(ComputeSystem document) => throw new NotImplementedException();
}

internal sealed record ContainerBundle(string Id, Container Container, string RootfsPath, string InitPath, string CgroupsPath, string? NetnsPath, int HostCpuCount);

internal static class OciSpec
{
    public static string Build(ContainerBundle bundle) => throw new NotImplementedException();
    public static JsonObject Resources(ContainerMemory? memory, ContainerProcessor? processor, int hostCpuCount) => throw new NotImplementedException();
}

internal static class ProcessSpec
{
    public static string Build(ProcessParameters parameters, string rootfsPath) => throw new NotImplementedException();
}

internal static class RootFs
{
    public static Task MountAsync(IReadOnlyList<string> layersParentFirst, string upperDir, string workDir, string target, CancellationToken ct) => throw new NotImplementedException();
    public static Task UnmountAsync(string target, CancellationToken ct) => throw new NotImplementedException();
    public static Task BindAsync(string source, string target, bool readOnly, CancellationToken ct) => throw new NotImplementedException();
}

internal sealed class ContainerCgroup
{
    public static ContainerCgroup Find(string cgroupsPath, string mountInfoPath = "/proc/self/mountinfo") => throw new NotImplementedException();
    public string Path => throw new NotImplementedException();
    public ProcessorStats? ReadProcessor() => throw new NotImplementedException();
    public MemoryStats? ReadMemory() => throw new NotImplementedException();
    public StorageStats? ReadStorage() => throw new NotImplementedException();
    public IReadOnlyList<int> ReadPids() => throw new NotImplementedException();
    public ulong ReadOomKills() => throw new NotImplementedException();
}

internal static class ProcessTable
{
    public static IReadOnlyList<ProcessDetails> Read(IReadOnlyList<int> hostPids, string procRoot = "/proc") => throw new NotImplementedException();
    public static uint? NamespacePid(int hostPid, string procRoot = "/proc") => throw new NotImplementedException();
}
