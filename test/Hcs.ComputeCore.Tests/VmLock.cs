// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The machine-wide VM lock, <c>/tmp/hcs-vm.lock</c>: the same <c>flock(2)</c> lock <c>flock /tmp/hcs-vm.lock …</c>
/// takes (.NET opens a <see cref="FileShare.None"/> file with <c>flock(LOCK_EX | LOCK_NB)</c>), held while a test boots
/// QEMU VMs so no more than one such test (and its VMs) runs at a time on the shared 2-core machine.
/// </summary>
public sealed class VmLock : IDisposable
{
    private const string Path = "/tmp/hcs-vm.lock";

    private readonly FileStream _file;

    private VmLock(FileStream file) => _file = file;

    /// <summary>Waits (polling every 200 ms, at most <paramref name="timeout"/>) until the lock is this process's.</summary>
    public static async Task<VmLock> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new VmLock(new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (clock.Elapsed < timeout)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _file.Dispose();
}
