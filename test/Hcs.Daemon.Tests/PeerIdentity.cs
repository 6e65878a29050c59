// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Hcs.Daemon.Tests;

/// <summary>
/// Connects to a Unix socket as another user without another process: on a dedicated thread, the raw
/// <c>setresuid</c>/<c>setresgid</c> system calls change that thread's credentials only (glibc's wrappers would change
/// every thread's), the socket connects — the kernel records the thread's credentials for <c>SO_PEERCRED</c> and
/// checks the socket file's mode against them — and the thread restores root before it ends.
/// </summary>
internal static partial class PeerIdentity
{
    private const long SysSetresuid = 117;
    private const long SysSetresgid = 119;

    public static Stream ConnectAs(string socket, uint uid, uint gid)
    {
        Stream? stream = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Check(Syscall(SysSetresgid, -1, gid, -1), "setresgid");
                try
                {
                    Check(Syscall(SysSetresuid, -1, uid, -1), "setresuid");
                    try
                    {
                        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        try
                        {
                            connection.Connect(new UnixDomainSocketEndPoint(socket));
                            stream = new NetworkStream(connection, ownsSocket: true);
                        }
                        catch
                        {
                            connection.Dispose();
                            throw;
                        }
                    }
                    finally
                    {
                        Check(Syscall(SysSetresuid, -1, 0, -1), "setresuid back to root");
                    }
                }
                finally
                {
                    Check(Syscall(SysSetresgid, -1, 0, -1), "setresgid back to root");
                }
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw failure;
        }

        return stream!;
    }

    private static void Check(long result, string call)
    {
        if (result != 0)
        {
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long a, long b, long c);
}
