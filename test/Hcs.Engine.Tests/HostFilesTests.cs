// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>
/// <see cref="HostFiles"/>: a host path named by a non-root client is opened with that client's credentials (uid,
/// gid, supplementary groups), on a thread of its own; the service's own credentials are untouched. Runs as root.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class HostFilesTests : IDisposable
{
    private const uint Nobody = 65534, NoGroup = 65534, Staff = 50;
    private readonly string _dir = Directory.CreateTempSubdirectory("hcs-hostfiles-").FullName;

    public HostFilesTests()
    {
        File.SetUnixFileMode(_dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ARootOnlyDirectory_IsRefusedToAnotherUid_WithThePathAndTheMember()
    {
        var secret = Sub("secret", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var scope = HostCaller.Enter(new HostCaller(Nobody, NoGroup, []));

        var e = await Assert.ThrowsAsync<HcsException>(() => HostFiles.OpenAsync(secret, HostOpen.ReadDirectory, "$.X.HostPath"));

        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        Assert.Contains("$.X.HostPath", e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains(secret, e.Result.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("uid 65534", e.Result.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWorldReadableDirectory_OpensForReading_ButNotForWriting()
    {
        var shared = Sub("shared", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        using var scope = HostCaller.Enter(new HostCaller(Nobody, NoGroup, []));

        using (var handle = await HostFiles.OpenAsync(shared, HostOpen.ReadDirectory, "$.X"))
        {
            Assert.False(handle.IsInvalid);
        }

        var e = await Assert.ThrowsAsync<HcsException>(() => HostFiles.OpenAsync(shared, HostOpen.ReadWriteDirectory, "$.X"));
        Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
    }

    [Fact]
    public async Task ASupplementaryGroup_GrantsWhatItsMembersMayDo()
    {
        var team = Sub("team", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);
        Chown(team, 0, Staff);

        using (HostCaller.Enter(new HostCaller(Nobody, NoGroup, [Staff])))
        {
            using var handle = await HostFiles.OpenAsync(team, HostOpen.ReadWriteDirectory, "$.X");
            Assert.False(handle.IsInvalid);
        }

        using (HostCaller.Enter(new HostCaller(Nobody, NoGroup, [])))
        {
            var e = await Assert.ThrowsAsync<HcsException>(() => HostFiles.OpenAsync(team, HostOpen.ReadDirectory, "$.X"));
            Assert.Equal(HResults.E_ACCESSDENIED, e.HResult);
        }
    }

    [Fact]
    public async Task AMissingPath_IsPathNotFound()
    {
        using var scope = HostCaller.Enter(new HostCaller(Nobody, NoGroup, []));

        var e = await Assert.ThrowsAsync<HcsException>(() => HostFiles.OpenAsync(Path.Combine(_dir, "none"), HostOpen.ReadFile, "$.X"));

        Assert.Equal(HResults.ERROR_PATH_NOT_FOUND, e.HResult);
    }

    [Fact]
    public async Task TheServiceKeepsItsOwnCredentials_BeforeDuringAndAfterACallersWork()
    {
        var secret = Sub("secret", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var gate = new TaskCompletionSource();
        using var release = new ManualResetEventSlim();
        Task<bool> callerWork;
        using (HostCaller.Enter(new HostCaller(Nobody, NoGroup, [])))
        {
            callerWork = HostFiles.AsCallerAsync(() =>
            {
                gate.SetResult();
                release.Wait();
                try
                {
                    _ = Directory.GetFileSystemEntries(secret);
                    return true;
                }
                catch (UnauthorizedAccessException)
                {
                    return false;
                }
            });
        }

        await gate.Task;

        // While the caller's thread holds uid 65534, the service (root, no caller) still opens the root-only directory.
        using (var handle = await HostFiles.OpenAsync(secret, HostOpen.ReadWriteDirectory, "$.X"))
        {
            Assert.False(handle.IsInvalid);
        }

        release.Set();
        Assert.False(await callerWork, "the caller's thread saw into a root-only directory");
        using var again = await HostFiles.OpenAsync(secret, HostOpen.ReadWriteDirectory, "$.X");
        Assert.False(again.IsInvalid);
    }

    private string Sub(string name, UnixFileMode mode)
    {
        var path = Path.Combine(_dir, name);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private static void Chown(string path, uint uid, uint gid)
    {
        using var chown = System.Diagnostics.Process.Start("chown", ["--", $"{uid}:{gid}", path]);
        chown.WaitForExit();
        Assert.Equal(0, chown.ExitCode);
    }
}
