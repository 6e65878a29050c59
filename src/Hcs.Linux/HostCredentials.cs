// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>
/// File system credentials to act with on the host: a uid, a primary gid and supplementary groups (e.g. a client of
/// hcsd, as <c>SO_PEERCRED</c> named it). <see cref="RunAsync{T}"/> runs work on a thread of its own whose file
/// system uid, gid and supplementary groups are these (<c>setfsuid</c>, <c>setfsgid</c> and the raw
/// <c>setgroups</c> system call are per thread on Linux; the kernel drops the file-system capabilities of a thread
/// whose fsuid is not 0), so the kernel checks every open, create, unlink and bind as it would for them. The thread
/// ends with the work, so no other code ever runs with those credentials.
/// </summary>
/// <param name="Uid">The uid.</param>
/// <param name="Gid">The primary gid.</param>
/// <param name="Groups">The supplementary groups.</param>
public sealed partial record HostCredentials(uint Uid, uint Gid, IReadOnlyList<uint> Groups)
{
    private const long SysSetgroupsX64 = 116, SysSetgroupsArm64 = 159;

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => geteuid();

    /// <summary>
    /// Runs <paramref name="work"/> on a new thread that has these file system credentials (the execution context
    /// flows into it); the task ends with its result or exception. Only a root service can take another uid's
    /// credentials: the caller checks <see cref="EffectiveUid"/> first.
    /// </summary>
    public Task<T> RunAsync<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Become();
                done.TrySetResult(work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "hcs host caller",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>"uid U (gid G, groups A,B)", as errors name who was acting.</summary>
    public override string ToString() => $"uid {Uid} (gid {Gid}{(Groups.Count > 0 ? ", groups " + string.Join(',', Groups) : "")})";

    /// <summary>Gives the current (dedicated) thread these file system credentials, and checks they took.</summary>
    private void Become()
    {
        var groups = Groups.ToArray();
        var number = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? SysSetgroupsArm64 : SysSetgroupsX64;
        unsafe
        {
            fixed (uint* list = groups)
            {
                // The raw system call: glibc's setgroups() would change every thread of the process.
                if (syscall(number, groups.Length, (nint)list, 0, 0) != 0)
                {
                    throw new InvalidOperationException($"setgroups for {this} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                }
            }
        }

        _ = setfsgid(Gid);
        _ = setfsuid(Uid);

        // setfsuid/setfsgid report no errors: an invalid id (-1) changes nothing and returns the current one.
        if (setfsuid(uint.MaxValue) != Uid || setfsgid(uint.MaxValue) != Gid)
        {
            throw new InvalidOperationException($"could not take the file system credentials of {this}");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, long a1, nint a2, long a3, long a4);

    [LibraryImport("libc")]
    private static partial uint geteuid();

    [LibraryImport("libc")]
    private static partial int setfsuid(uint fsuid);

    [LibraryImport("libc")]
    private static partial int setfsgid(uint fsgid);
}
