// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Linux;
using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// The VM file utilities, done in the calling process with its own credentials: the library never widens access
/// beyond what its caller could do itself, and starts no process. hcsd opens every host file a document names with the
/// credentials of the client that named it and gives QEMU the descriptor (docs/security.md, "A caller of hcsd: host
/// paths"), so a VM's access to a file is exactly its creator's: there is no per-VM account to grant anything to.
/// </summary>
internal static class CallerFiles
{
    private const int OWriteOnly = 1, OCreate = 0x40, OExclusive = 0x80, OCloseOnExec = 0x80000, OPath = 0x200000;
    private const uint Mode0600 = 0x180;

    /// <summary>Creates an empty file at the path <paramref name="path"/> points to (never replacing anything).</summary>
    public static int CreateEmpty(nint path)
    {
        try
        {
            var name = NativeStrings.Read(path);
            if (string.IsNullOrEmpty(name) || name.Contains('\0', StringComparison.Ordinal))
            {
                return HResults.E_INVALIDARG;
            }

            var fd = LinuxCalls.Openat(null, name, OWriteOnly | OCreate | OExclusive | OCloseOnExec | LinuxCalls.O_NOFOLLOW, Mode0600);
            if (fd < 0)
            {
                return FromErrno(LinuxCalls.Errno, ifMissing: HResults.ERROR_PATH_NOT_FOUND);
            }

            LinuxCalls.Handle(fd)!.Dispose();
            return HResults.S_OK;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    /// <summary>
    /// The grant and revoke functions: <c>E_INVALIDARG</c> for a NULL or empty id (when one is taken) or path; then the
    /// file must exist (<c>ERROR_FILE_NOT_FOUND</c>, <c>ERROR_PATH_NOT_FOUND</c>, <c>E_ACCESSDENIED</c> if the caller cannot
    /// reach it); a grant also needs the caller to be able to read it (<c>E_ACCESSDENIED</c>). Nothing is changed.
    /// </summary>
    public static int CheckAccess(nint vmId, nint filePath, bool grant, bool takesId)
    {
        try
        {
            if (takesId && string.IsNullOrEmpty(NativeStrings.Read(vmId)))
            {
                return HResults.E_INVALIDARG;
            }

            var name = NativeStrings.Read(filePath);
            if (string.IsNullOrEmpty(name) || name.Contains('\0', StringComparison.Ordinal))
            {
                return HResults.E_INVALIDARG;
            }

            var fd = LinuxCalls.Openat(null, name, OPath | OCloseOnExec, 0);
            if (fd < 0)
            {
                return FromErrno(LinuxCalls.Errno, ifMissing: HResults.ERROR_FILE_NOT_FOUND);
            }

            using var handle = LinuxCalls.Handle(fd)!;
            return grant && LinuxCalls.AccessByDescriptor(handle, LinuxCalls.R_OK) != 0 ? HResults.E_ACCESSDENIED : HResults.S_OK;
        }
        catch (Exception e)
        {
            return Guard.HResultOf(e);
        }
    }

    private static int FromErrno(int errno, int ifMissing) => errno switch
    {
        LinuxCalls.EEXIST => HResults.ERROR_ALREADY_EXISTS,
        LinuxCalls.ENOENT => ifMissing,
        LinuxCalls.ENOTDIR => HResults.ERROR_PATH_NOT_FOUND,
        LinuxCalls.EACCES or LinuxCalls.EPERM or LinuxCalls.ELOOP => HResults.E_ACCESSDENIED,
        28 /* ENOSPC */ => HResults.ERROR_DISK_FULL,
        30 /* EROFS */ => HResults.ERROR_WRITE_PROTECT,
        _ => HResults.E_FAIL,
    };
}
