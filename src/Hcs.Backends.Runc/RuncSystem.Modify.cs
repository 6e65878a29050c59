// Copyright (c) hcs contributors. Licensed under the MIT licence.

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
    private readonly Dictionary<int, string> _stagedSources = []; // guarded by _gate: mapped directory index → staging point

    /// <summary>
    /// <c>Container/Memory/SizeInMB</c> (Update: the memory limit), <c>Container/Processor</c> (Update: Count, Maximum or
    /// Weight) and <c>Container/MappedDirectories</c> (Add: a bind mount that appears in the running container). Before
    /// Start the change is written into the bundle; afterwards <c>runc update</c> applies it to the cgroup. Every other
    /// path or request type is refused by name.
    /// </summary>
    public async Task ModifyAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        const string Label = OperationLabels.ModifySystem;
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
            throw HcsException.InvalidJson("$.Settings", $"expected a {typeof(T).Name} object", OperationLabels.ModifySystem, Id);
        }

        try
        {
            return HcsJson.Deserialize<T>(settings.GetRawText());
        }
        catch (HcsException e)
        {
            throw new HcsException(e.HResult, OperationLabels.ModifySystem, Id, result: ResultError.From(e.HResult, "$.Settings: " + e.Message));
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
            Dictionary<int, string> staged;
            lock (_gate)
            {
                staged = new Dictionary<int, string>(_stagedSources);
            }

            var bundle = new ContainerBundle(_layout.Name, updated, _layout.Rootfs, _backend.ShimPath, _layout.CgroupsPath,
                NetnsOf(updated), Environment.ProcessorCount)
            {
                StagedSources = staged,
            };
            var config = OciSpec.Build(bundle);
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
    /// Adds a mapped directory to a container. The host directory is opened with the caller's credentials
    /// (<see cref="HostFiles"/>: read-only → readable, read-write → writable by the caller), so a client maps only what
    /// it could use itself. Before Start it joins the bundle (staged for a caller that is not root, see
    /// <c>RuncBackend.StageSource</c>). In a running container the target is resolved inside the container's
    /// root (<see cref="ContainerRoot"/>: a symbolic link the workload planted cannot lead out of it), made if missing,
    /// and the opened source is bound onto it by descriptor (<see cref="RootFs.Bind"/>, read-only before it is
    /// attached). The rootfs is a shared mount and the container's root is its slave (<c>rootfsPropagation: rslave</c>),
    /// so the new mount appears inside the container.
    /// </summary>
    private async Task AddMappingAsync(MappedDirectory mapping, string label, CancellationToken cancellationToken)
    {
        Container updated;
        lock (_gate)
        {
            updated = _container with { MappedDirectories = [.. _container.MappedDirectories ?? [], mapping] };
        }

        ContainerValidation.Validate(new ComputeSystem { Container = updated }, _backend.Settings.NetnsDirectory);
        var readOnly = mapping.ReadOnly == true;
        using var source = await LabelledAsync(HostFiles.OpenAsync(mapping.HostPath!, readOnly ? HostOpen.ReadDirectory : HostOpen.ReadWriteDirectory,
            "$.Settings.HostPath"), label).ConfigureAwait(false);
        if (!Started)
        {
            var index = updated.MappedDirectories!.Count - 1;
            if (HostCaller.Current is not null)
            {
                var stage = RuncBackend.StageSource(_layout, index, source, readOnly, "$.Settings.HostPath");
                lock (_gate)
                {
                    _stagedSources[index] = stage;
                }
            }

            await UpdateAsync(_ => updated, label, cancellationToken).ConfigureAwait(false);
            return;
        }

        var containerPath = "/" + string.Join('/', mapping.ContainerPath!.Split('/', StringSplitOptions.RemoveEmptyEntries));
        try
        {
            using var root = ContainerRoot.Open(_layout.Rootfs);
            using var target = root.MakeDirectory(containerPath, "$.Settings.ContainerPath");
            RootFs.Bind(source, target, readOnly, recursive: false, "$.Settings");
        }
        catch (HcsException e) when (e.SystemId is null)
        {
            throw new HcsException(e.HResult, label, Id, result: e.Result);
        }

        lock (_gate)
        {
            _runtimeMounts.Add(_layout.Rootfs + containerPath);
            _container = updated;
        }

        ReportFacts();
    }

    /// <summary>A failure of <paramref name="open"/> carries <paramref name="label"/> and this system's id.</summary>
    private async Task<T> LabelledAsync<T>(Task<T> open, string label)
    {
        try
        {
            return await open.ConfigureAwait(false);
        }
        catch (HcsException e) when (e.SystemId is null)
        {
            throw new HcsException(e.HResult, label, Id, result: e.Result);
        }
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
            await MountTable.UnmountAsync(_layout.Directory, target, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
