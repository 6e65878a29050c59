// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.ComputeCore.Tests;

/// <summary>
/// The machine-wide VM lock (<c>/tmp/hcs-vm.lock</c>, the file <c>flock /tmp/hcs-vm.lock …</c> takes): held while a
/// test boots QEMU VMs, so that parallel test runs on a small machine boot one at a time. .NET takes an exclusive
/// <c>flock</c> on a file opened with <see cref="FileShare.None"/>, so this excludes the <c>flock</c> command too.
/// Do not run these tests themselves under <c>flock /tmp/hcs-vm.lock</c>: they would wait for their own runner.
/// </summary>
public static class VmLock
{
    /// <summary>The lock file.</summary>
    public const string Path = "/tmp/hcs-vm.lock";

    /// <summary>Waits (at most <paramref name="timeout"/>, default 20 minutes) for the lock; dispose to release it.</summary>
    public static async Task<IDisposable> AcquireAsync(TimeSpan? timeout = null)
    {
        var limit = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(20));
        while (true)
        {
            try
            {
                return new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException) when (DateTime.UtcNow < limit)
            {
                // Held by another run: poll (flock has no wait-with-timeout from .NET).
                await Task.Delay(TimeSpan.FromMilliseconds(500));
            }
        }
    }
}
