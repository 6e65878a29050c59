// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

internal sealed partial class RuncSystem
{
    /// <summary>Resource paths of <c>HcsModifyComputeSystem</c> a container honours.</summary>
    internal const string MemoryPath = "Container/Memory/SizeInMB";

    internal const string ProcessorPath = "Container/Processor";

    internal const string MappedDirectoriesPath = "Container/MappedDirectories";

    private readonly List<string> _runtimeMounts = []; // guarded by _gate: targets under the rootfs, in mount order
    private int _nextMapping;

    /// <summary>
    /// <c>Container/Memory/SizeInMB</c> (Update: the memory limit), <c>Container/Processor</c> (Update: Count, Maximum or
    /// Weight) and <c>Container/MappedDirectories</c> (Add: a bind mount that appears in the running container). Before
    /// Start the change is written into the bundle; afterwards <c>runc update</c> applies it to the cgroup. Every other
    /// path or request type is refused by name.
    /// </summary>
    public async Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        const string Label = "ComputeSystem.Modify";
        var type = request.RequestType ?? ModifyRequestType.Update;
        switch (request.ResourcePath)
        {
            case MemoryPath when type == ModifyRequestType.Update:
                if (request.Settings is not { ValueKind: JsonValueKind.Number } number || !number.TryGetUInt64(out var size) || size == 0)
                {
                    throw HcsException.InvalidJson("$.Settings", "expected the memory size in MiB, a whole number of at least 1", Label, Id);
                }

                await UpdateAsync(c => c with { Memory = new ContainerMemory { SizeInMB = size } }, Label, cancellationToken).ConfigureAwait(false);
                break;
            case ProcessorPath when type == ModifyRequestType.Update:
                var processor = SettingsDocument<ContainerProcessor>(request);
                var set = new[] { processor.Count is not null, processor.Maximum is not null, processor.Weight is not null }.Count(b => b);
                if (set != 1)
                {
                    throw HcsException.InvalidJson("$.Settings", "exactly one of Count, Maximum and Weight must be set", Label, Id);
                }

                await UpdateAsync(c => c with { Processor = processor }, Label, cancellationToken).ConfigureAwait(false);
                break;
            case MappedDirectoriesPath when type == ModifyRequestType.Add:
                await AddMappingAsync(SettingsDocument<MappedDirectory>(request), Label, cancellationToken).ConfigureAwait(false);
                break;
            case MemoryPath or ProcessorPath or MappedDirectoriesPath:
                throw HcsException.InvalidJson("$.RequestType", $"'{type}' is not supported for {request.ResourcePath}", Label, Id);
            default:
                throw HcsException.InvalidJson("$.ResourcePath",
                    $"'{request.ResourcePath}' is not supported for containers (supported: {MemoryPath}, {ProcessorPath}, {MappedDirectoriesPath})", Label, Id);
        }
    }

    private T SettingsDocument<T>(ModifySettingRequest request) where T : class
    {
        if (request.Settings is not { ValueKind: JsonValueKind.Object } settings)
        {
            throw HcsException.InvalidJson("$.Settings", $"expected a {typeof(T).Name} object", "ComputeSystem.Modify", Id);
        }

        try
        {
            return HcsJson.Deserialize<T>(settings.GetRawText());
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, "ComputeSystem.Modify", Id, result: ResultError.From(e.HResult, "$.Settings: " + e.Message));
        }
    }

    /// <summary>Applies a changed resource document: into the bundle before Start, through <c>runc update</c> after.</summary>
    private async Task UpdateAsync(Func<Container, Container> change, string label, CancellationToken cancellationToken)
    {
        Container updated;
        lock (_gate)
        {
            updated = change(_container);
        }

        ContainerValidation.Validate(new ComputeSystem { Container = updated }, _backend.Settings.NetnsDirectory);
        if (!Started)
        {
            var config = OciSpec.Build(new ContainerBundle(_layout.Name, updated, _layout.Rootfs, _backend.ShimPath, _layout.CgroupsPath,
                NetnsOf(updated), Environment.ProcessorCount));
            await PrivateFiles.WriteAllTextAsync(Path.Combine(_layout.Directory, "config.json"), config, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var resources = OciSpec.Resources(updated.Memory, updated.Processor, Environment.ProcessorCount);
            if (updated.Processor is not null && resources["cpu"] is JsonObject cpu)
            {
                // A limit that is no longer asked for is lifted: runc update keeps values it is not given.
                cpu["quota"] ??= -1;
                cpu["shares"] ??= 1024;
            }

            var file = Path.Combine(_layout.Directory, "update.json");
            await PrivateFiles.WriteAllTextAsync(file, resources.ToJsonString(), cancellationToken).ConfigureAwait(false);
            await _backend.RuncCheckedAsync(label, Id, "update", _layout.Name, ["--resources", file], cancellationToken).ConfigureAwait(false);
        }

        lock (_gate)
        {
            _container = updated;
        }
    }

    private string? NetnsOf(Container container) =>
        container.Networking?.Namespace is { } ns ? ContainerValidation.NetnsPath(ns, _backend.Settings.NetnsDirectory) : null;

    /// <summary>
    /// Adds a mapped directory to a running container. The rootfs is a shared mount and the container's root is its
    /// slave (<c>rootfsPropagation: rslave</c>), so a bind mount made on the host under the rootfs appears inside. A
    /// read-only mapping is first bound read-only at a private staging point, and that mount is bound into the rootfs,
    /// so the copy the container receives is read-only from the start (a remount would not propagate).
    /// </summary>
    private async Task AddMappingAsync(MappedDirectory mapping, string label, CancellationToken cancellationToken)
    {
        Container updated;
        lock (_gate)
        {
            updated = _container with { MappedDirectories = [.. _container.MappedDirectories ?? [], mapping] };
        }

        ContainerValidation.Validate(new ComputeSystem { Container = updated }, _backend.Settings.NetnsDirectory);
        if (!Directory.Exists(mapping.HostPath))
        {
            throw new HcsException(HResults.ERROR_PATH_NOT_FOUND, label, Id,
                result: ResultError.From(HResults.ERROR_PATH_NOT_FOUND, $"$.Settings.HostPath: '{mapping.HostPath}' does not exist", "runc"));
        }

        if (!Started)
        {
            await UpdateAsync(_ => updated, label, cancellationToken).ConfigureAwait(false);
            return;
        }

        var target = Path.Combine(_layout.Rootfs, mapping.ContainerPath!.TrimStart('/'));
        Directory.CreateDirectory(target);
        var source = mapping.HostPath!;
        if (mapping.ReadOnly == true)
        {
            var stage = Path.Combine(_layout.Directory, "stage", Interlocked.Increment(ref _nextMapping).ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(stage);
            await RootFs.BindAsync(source, stage, readOnly: true, cancellationToken).ConfigureAwait(false);
            lock (_gate)
            {
                _runtimeMounts.Add(stage);
            }

            source = stage;
        }

        await RootFs.BindAsync(source, target, readOnly: mapping.ReadOnly == true, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _runtimeMounts.Add(target);
            _container = updated;
        }

        ReportFacts();
    }

    private async Task UnmountRuntimeMappingsAsync()
    {
        string[] targets;
        lock (_gate)
        {
            targets = [.. _runtimeMounts];
            _runtimeMounts.Clear();
        }

        foreach (var target in targets.Reverse())
        {
            await RootFs.UnmountAsync(target, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
