// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Linux;

/// <summary>A user of the host, as the name service switch knows it.</summary>
/// <param name="Name">The login name.</param>
/// <param name="Uid">The uid.</param>
/// <param name="Gid">The primary gid.</param>
/// <param name="Home">The home directory.</param>
public sealed record HostUser(string Name, uint Uid, uint Gid, string Home);

/// <summary>A group of the host, as the name service switch knows it.</summary>
/// <param name="Name">The group name.</param>
/// <param name="Gid">The gid.</param>
public sealed record HostGroup(string Name, uint Gid);

/// <summary>
/// Users and groups of the host, looked up through glibc's name service switch (<c>getpwnam_r</c>,
/// <c>getpwuid_r</c>, <c>getgrnam_r</c>, <c>getgrgid_r</c>), so LDAP, SSSD or systemd-homed users are found like
/// <c>/etc/passwd</c> ones. The buffer grows while the call answers <c>ERANGE</c> (up to 16 MiB). Users inside a
/// container are not host users: they are read from the container's own files (the runc backend's
/// <c>ProcessSpec</c>), never through NSS.
/// </summary>
public static unsafe partial class HostAccounts
{
    private const int MaxBuffer = 16 << 20, EBADF = 9;

    /// <summary>The user named <paramref name="name"/>; null when there is none.</summary>
    /// <exception cref="IOException">The lookup itself failed (e.g. the directory service is unreachable).</exception>
    public static HostUser? UserByName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return LookUpUser($"user '{name}'", (pwd, buffer, length, result) => getpwnam_r(name, pwd, buffer, length, result));
    }

    /// <summary>The user with uid <paramref name="uid"/>; null when there is none.</summary>
    /// <exception cref="IOException">The lookup itself failed.</exception>
    public static HostUser? UserById(uint uid) =>
        LookUpUser($"uid {uid}", (pwd, buffer, length, result) => getpwuid_r(uid, pwd, buffer, length, result));

    /// <summary>The group named <paramref name="name"/>; null when there is none.</summary>
    /// <exception cref="IOException">The lookup itself failed.</exception>
    public static HostGroup? GroupByName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return LookUpGroup($"group '{name}'", (grp, buffer, length, result) => getgrnam_r(name, grp, buffer, length, result));
    }

    /// <summary>The group with gid <paramref name="gid"/>; null when there is none.</summary>
    /// <exception cref="IOException">The lookup itself failed.</exception>
    public static HostGroup? GroupById(uint gid) =>
        LookUpGroup($"gid {gid}", (grp, buffer, length, result) => getgrgid_r(gid, grp, buffer, length, result));

    private unsafe delegate int Call(void* entry, byte* buffer, nuint length, void** result);

    private static unsafe HostUser? LookUpUser(string what, Call call) =>
        Run<Passwd, HostUser>(what, call, static entry => new HostUser(Text(entry.Name), entry.Uid, entry.Gid, Text(entry.Dir)));

    private static unsafe HostGroup? LookUpGroup(string what, Call call) =>
        Run<Group, HostGroup>(what, call, static entry => new HostGroup(Text(entry.Name), entry.Gid));

    /// <summary>
    /// Calls a <c>get*_r</c> function with a buffer that grows while it answers <c>ERANGE</c>; the entry's strings
    /// point into that buffer, so <paramref name="read"/> copies them before it is freed. Null when not found.
    /// </summary>
    private static unsafe T? Run<TEntry, T>(string what, Call call, Func<TEntry, T> read)
        where TEntry : unmanaged
        where T : class
    {
        for (var length = 1024; ; length *= 2)
        {
            var buffer = (byte*)NativeMemory.Alloc((nuint)length);
            try
            {
                TEntry entry = default;
                void* result = null;
                var error = call(&entry, buffer, (nuint)length, &result);
                if (error == LinuxCalls.ERANGE && length < MaxBuffer)
                {
                    continue;
                }

                // "Not found" is a null result with 0, or (as some NSS modules answer) one of these.
                if (result is null && error is 0 or LinuxCalls.ENOENT or LinuxCalls.ESRCH or EBADF or LinuxCalls.EPERM)
                {
                    return null;
                }

                return error == 0 ? read(entry) : throw new IOException($"cannot look up {what}: {LinuxCalls.Describe(error)}");
            }
            finally
            {
                NativeMemory.Free(buffer);
            }
        }
    }

    private static unsafe string Text(byte* text) => Marshal.PtrToStringUTF8((nint)text) ?? "";

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Passwd
    {
        public byte* Name;
        public byte* Password;
        public uint Uid;
        public uint Gid;
        public byte* Gecos;
        public byte* Dir;
        public byte* Shell;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Group
    {
        public byte* Name;
        public byte* Password;
        public uint Gid;
        public byte** Members;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int getpwnam_r(string name, void* pwd, byte* buffer, nuint length, void** result);

    [LibraryImport("libc")]
    private static unsafe partial int getpwuid_r(uint uid, void* pwd, byte* buffer, nuint length, void** result);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int getgrnam_r(string name, void* grp, byte* buffer, nuint length, void** result);

    [LibraryImport("libc")]
    private static unsafe partial int getgrgid_r(uint gid, void* grp, byte* buffer, nuint length, void** result);
}
