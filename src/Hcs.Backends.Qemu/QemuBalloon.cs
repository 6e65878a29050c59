// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Engine.Backends;
using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// The memory of one running VM through the <c>virtio-balloon-pci</c> device every VM has
/// (<see cref="QemuCommandLine.BalloonId"/>): Modify <c>VirtualMachine/ComputeTopology/Memory/SizeInMB</c> moves the
/// balloon (at most to the boot size), and the <c>Memory</c> property reads it back. <see cref="TargetMb"/> is the last
/// size requested (a runtime fact, and part of a saved state's header).
/// </summary>
internal sealed class QemuBalloon
{
    private const long MiB = 1024 * 1024;

    private readonly QmpClient _qmp;
    private readonly Lock _gate = new();
    private ulong _targetMb; // guarded by _gate

    /// <summary>The balloon of a VM that booted with <paramref name="memoryMb"/> MB, last set to <paramref name="targetMb"/> MB.</summary>
    public QemuBalloon(QmpClient qmp, ulong memoryMb, ulong targetMb)
    {
        _qmp = qmp;
        MemoryMb = memoryMb;
        _targetMb = targetMb;
    }

    /// <summary>The VM's boot memory size in MB: the most the balloon can give the guest.</summary>
    public ulong MemoryMb { get; }

    /// <summary>The last size requested, in MB (the boot size until Modify moves the balloon).</summary>
    public ulong TargetMb
    {
        get
        {
            lock (_gate)
            {
                return _targetMb;
            }
        }
    }

    /// <summary>
    /// <c>VirtualMachine/ComputeTopology/Memory/SizeInMB</c> (Update): moves the balloon; the guest gives memory back
    /// (or takes it again) asynchronously, which the <c>Memory</c> property shows. The size must be a whole number of
    /// MB from 1 to the boot size (<c>HCS_E_INVALID_JSON</c> naming <c>$.Settings</c>): the balloon cannot grow a guest
    /// past the memory it booted with.
    /// </summary>
    public async Task SetAsync(ModifySettingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.RequestType is not (null or ModifyRequestType.Update))
        {
            throw HcsException.InvalidJson("$.RequestType", $"the memory size can only be updated (RequestType Update), not '{request.RequestType}'");
        }

        if (request.Settings is not { ValueKind: JsonValueKind.Number } settings || !settings.TryGetUInt64(out var mb) || mb == 0)
        {
            throw HcsException.InvalidJson("$.Settings", $"the memory size must be a whole number of MB from 1 to {MemoryMb}, got {request.Settings?.GetRawText() ?? "nothing"}");
        }

        if (mb > MemoryMb)
        {
            throw HcsException.InvalidJson("$.Settings", string.Create(CultureInfo.InvariantCulture,
                $"{mb} MB is more than the VM's boot memory ({MemoryMb} MB); the balloon can give memory back, not add more"));
        }

        await _qmp.ExecuteAsync("balloon", new JsonObject { ["value"] = (long)mb * MiB }, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _targetMb = mb;
        }
    }

    /// <summary>
    /// The <c>Memory</c> property from QMP: <c>AssignedMemory</c> = <c>query-balloon</c> <c>actual</c> (what the guest
    /// has now), <c>ReservedMemory</c> = <c>query-memory-size-summary</c> base + plugged memory (the ceiling the balloon
    /// can give back), <c>AvailableMemory</c> = the guest's <c>MemAvailable</c> from the balloon statistics (omitted
    /// until the guest's driver reported), <c>DmOperationInProgress</c> = the balloon has not reached the last size
    /// requested, <c>BalancingEnabled</c> = false (nothing moves the balloon but Modify). All in MB; one NUMA node.
    /// Null when QEMU cannot answer.
    /// </summary>
    public async Task<MemoryInformationForVm?> MemoryAsync(CancellationToken cancellationToken)
    {
        try
        {
            var balloon = await _qmp.ExecuteAsync("query-balloon", cancellationToken: cancellationToken).ConfigureAwait(false);
            var summary = await _qmp.ExecuteAsync("query-memory-size-summary", cancellationToken: cancellationToken).ConfigureAwait(false);
            var stats = await _qmp.ExecuteAsync("qom-get", new JsonObject
            {
                ["path"] = $"/machine/peripheral/{QemuCommandLine.BalloonId}",
                ["property"] = "guest-stats",
            }, cancellationToken).ConfigureAwait(false);
            var actual = balloon.GetProperty("actual").GetUInt64() / MiB;
            var ceiling = (summary.GetProperty("base-memory").GetUInt64()
                + (summary.TryGetProperty("plugged-memory", out var plugged) ? plugged.GetUInt64() : 0)) / MiB;
            int? available = null;
            if (stats.TryGetProperty("last-update", out var updated) && updated.GetInt64() > 0
                && stats.GetProperty("stats").TryGetProperty("stat-available-memory", out var avail) && avail.TryGetInt64(out var bytes) && bytes >= 0)
            {
                available = (int)Math.Min(bytes / MiB, int.MaxValue);
            }

            return new MemoryInformationForVm
            {
                VirtualNodeCount = 1,
                VirtualMachineMemory = new VmMemory
                {
                    AssignedMemory = actual,
                    ReservedMemory = ceiling,
                    AvailableMemory = available,
                    BalancingEnabled = false,
                    DmOperationInProgress = actual != TargetMb,
                },
            };
        }
        catch (Exception e) when (e is QmpErrorException or QmpDisconnectedException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
