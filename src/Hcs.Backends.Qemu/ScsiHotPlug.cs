// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// The SCSI attachments of one running VM and their hot-plug (Modify
/// <c>VirtualMachine/Devices/Scsi/&lt;controller&gt;/Attachments/&lt;lun&gt;</c>). The controllers are those of the
/// create document (bus <c>scsiN</c>, N in document order); an attachment's block node and device are both named
/// <c>scsiN-LUN</c>, as create-time attachments are (<c>-blockdev</c> JSON). Add = <c>blockdev-add</c> +
/// <c>device_add</c> (the block node deleted again if the device cannot be added); Remove = <c>device_del</c>, wait for
/// <c>DEVICE_DELETED</c> (<see cref="DeviceDeleted"/>, bounded), <c>blockdev-del</c>. A LUN is taken before the QMP
/// commands run and given back if they fail, so two Modify calls never race for one LUN.
/// </summary>
internal sealed class ScsiHotPlug
{
    private const string Label = "QemuBackend.Modify";

    /// <summary>Generous bound for QEMU to act on a hot-unplug.</summary>
    private static readonly TimeSpan s_deviceTimeout = TimeSpan.FromSeconds(30);

    private readonly QmpClient _qmp;
    private readonly string? _systemId;
    private readonly Hcs.Schema.Version? _schemaVersion;
    private readonly Dictionary<string, string> _buses = new(StringComparer.Ordinal); // controller name → bus id
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _deletions = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ScsiSlot> _attached = new(StringComparer.Ordinal); // guarded by _gate: SCSI nodes in use

    /// <summary>
    /// The SCSI controllers of <paramref name="vm"/> with <paramref name="attached"/> in use (the create document's
    /// attachments, or those of an adopted VM's facts). <paramref name="schemaVersion"/> is the create document's, for
    /// the attachments Modify adds.
    /// </summary>
    public ScsiHotPlug(QmpClient qmp, string? systemId, VirtualMachine vm, Hcs.Schema.Version? schemaVersion, IEnumerable<ScsiSlot> attached)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(attached);
        _qmp = qmp;
        _systemId = systemId;
        _schemaVersion = schemaVersion;
        var index = 0;
        foreach (var name in (vm.Devices?.Scsi ?? new Dictionary<string, Scsi>()).Keys)
        {
            _buses[name] = QemuCommandLine.ScsiBus(index++);
        }

        foreach (var slot in attached)
        {
            _attached[QemuCommandLine.ScsiNode(slot.Bus, slot.Lun)] = slot;
        }
    }

    /// <summary>What is attached now, in no particular order.</summary>
    public IReadOnlyList<ScsiSlot> Attached
    {
        get
        {
            lock (_gate)
            {
                return [.. _attached.Values];
            }
        }
    }

    /// <summary>QEMU reported <c>DEVICE_DELETED</c> for device <paramref name="id"/>: a Remove waiting for it goes on.</summary>
    public void DeviceDeleted(string id)
    {
        if (_deletions.TryGetValue(id, out var deleted))
        {
            deleted.TrySetResult();
        }
    }

    /// <summary>
    /// Adds (<c>RequestType</c> Add, <c>Settings</c> an <see cref="Attachment"/>) or removes (Remove) the attachment at
    /// LUN <paramref name="lunKey"/> of controller <paramref name="controller"/>. An unknown controller, a bad LUN, another
    /// request type or a bad attachment is <c>HCS_E_INVALID_JSON</c>; a LUN in use (Add) <c>ERROR_ALREADY_EXISTS</c>; an
    /// empty one (Remove) <c>ERROR_NOT_FOUND</c>; QEMU refusing, <c>E_FAIL</c> with its reason.
    /// </summary>
    public async Task ModifyAsync(ModifySettingRequest request, string controller, string lunKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!_buses.TryGetValue(controller, out var bus))
        {
            throw HcsException.InvalidJson("$.ResourcePath",
                $"there is no SCSI controller '{ErrorText.Truncate(controller)}' in the create document (VirtualMachine.Devices.Scsi); controllers cannot be hot-added");
        }

        var lun = QemuCommandLine.Lun(lunKey, "$.ResourcePath");
        var node = QemuCommandLine.ScsiNode(bus, lun);
        switch (request.RequestType)
        {
            case ModifyRequestType.Add:
                {
                    var attachment = request.Settings is { } json
                        ? HcsJson.Deserialize<Attachment>(json, "$.Settings", _schemaVersion)
                        : throw HcsException.InvalidJson("$.Settings", "an Attachment is required to add a SCSI attachment");
                    _ = QemuCommandLine.Blockdev(attachment, node, "$.Settings");

                    // A caller that is not the service: the image is opened with its credentials and QEMU opens that
                    // descriptor (/proc/SERVICE/fd/N), held until blockdev-add has returned.
                    using var image = HostFiles.ActsForCaller ? await CallerPaths.OpenImageAsync(attachment, "$.Settings").ConfigureAwait(false) : null;
                    var blockdev = QemuCommandLine.Blockdev(attachment, node, "$.Settings", image is null ? null : CallerPaths.ProcName(image));
                    lock (_gate)
                    {
                        if (!_attached.TryAdd(node, new ScsiSlot(bus, lun, QemuCommandLine.ScsiDriver(attachment))))
                        {
                            throw Failure(HResults.ERROR_ALREADY_EXISTS, $"LUN {lun} of SCSI controller '{ErrorText.Truncate(controller)}' is already in use");
                        }
                    }

                    try
                    {
                        await AddAsync(attachment, blockdev, bus, lun, node, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        lock (_gate)
                        {
                            _attached.Remove(node);
                        }

                        throw;
                    }

                    break;
                }

            case ModifyRequestType.Remove:
                lock (_gate)
                {
                    if (!_attached.ContainsKey(node))
                    {
                        throw Failure(HResults.ERROR_NOT_FOUND, $"nothing is attached at LUN {lun} of SCSI controller '{ErrorText.Truncate(controller)}'");
                    }
                }

                await RemoveAsync(node, cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    _attached.Remove(node);
                }

                break;
            default:
                throw HcsException.InvalidJson("$.RequestType",
                    $"a SCSI attachment can be added or removed (RequestType Add or Remove), not '{request.RequestType?.ToString() ?? "(none)"}'");
        }
    }

    private async Task AddAsync(Attachment attachment, JsonObject blockdev, string bus, uint lun, string node, CancellationToken cancellationToken)
    {
        if (!HostFiles.ActsForCaller && !File.Exists(attachment.Path))
        {
            throw Failure(HResults.ERROR_FILE_NOT_FOUND, $"$.Settings.Path: '{attachment.Path}' does not exist");
        }

        try
        {
            await _qmp.ExecuteAsync("blockdev-add", blockdev, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpErrorException e)
        {
            throw Failure(HResults.E_FAIL, $"QEMU could not open '{attachment.Path}': {e.Description}");
        }

        try
        {
            await _qmp.ExecuteAsync("device_add", new JsonObject
            {
                ["driver"] = QemuCommandLine.ScsiDriver(attachment),
                ["id"] = node,
                ["bus"] = $"{bus}.0",
                ["lun"] = lun,
                ["drive"] = node,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is QmpErrorException or OperationCanceledException)
        {
            try
            {
                await _qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = node }, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception undo) when (undo is QmpErrorException or QmpDisconnectedException)
            {
                // The device may have been added after all (cancelled wait); Remove cleans up.
            }

            if (e is QmpErrorException qmp)
            {
                throw Failure(HResults.E_FAIL, $"QEMU could not attach the disk: {qmp.Description}");
            }

            throw;
        }
    }

    private async Task RemoveAsync(string node, CancellationToken cancellationToken)
    {
        var deleted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _deletions[node] = deleted; // before device_del: DEVICE_DELETED may arrive before its return
        try
        {
            try
            {
                await _qmp.ExecuteAsync("device_del", new JsonObject { ["id"] = node }, cancellationToken).ConfigureAwait(false);
            }
            catch (QmpErrorException e) when (e.ErrorClass != "DeviceNotFound")
            {
                throw Failure(HResults.E_FAIL, $"QEMU could not detach '{node}': {e.Description}");
            }
            catch (QmpErrorException)
            {
                deleted.TrySetResult(); // already gone (a cancelled earlier Remove): only the node is left
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_deviceTimeout);
            try
            {
                await deleted.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Failure(HResults.ERROR_TIMEOUT, $"QEMU did not report DEVICE_DELETED for '{node}' within {s_deviceTimeout.TotalSeconds:0} s");
            }
        }
        finally
        {
            _deletions.TryRemove(KeyValuePair.Create(node, deleted));
        }

        try
        {
            await _qmp.ExecuteAsync("blockdev-del", new JsonObject { ["node-name"] = node }, cancellationToken).ConfigureAwait(false);
        }
        catch (QmpErrorException e)
        {
            throw Failure(HResults.E_FAIL, $"QEMU could not release the disk of '{node}': {e.Description}");
        }
    }

    private HcsException Failure(int hr, string message) =>
        new(hr, Label, _systemId, result: ResultError.From(hr, message, "qemu"));
}
