// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Shim;

/// <summary>
/// The pty of a <c>tty:true</c> exec: copies master → stdout socket and stdin socket → master on two dedicated
/// threads. Reading the master failing (EIO: every slave fd closed) or returning 0 ends the output side, which shuts
/// down and closes the stdout socket; stdin EOF writes VEOF (^D) to the master.
/// </summary>
internal sealed unsafe class ConsoleProxy
{
    private readonly SafeFileHandle _master;
    private readonly Socket? _stdin;
    private readonly Socket? _stdout;
    private readonly TaskCompletionSource _outputDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _closed;

    public ConsoleProxy(SafeFileHandle master, Socket? stdin, Socket? stdout)
    {
        _master = master;
        _stdin = stdin;
        _stdout = stdout;
    }

    /// <summary>Completes when the process side of the pty has closed and the output has been copied.</summary>
    public Task OutputDone => _outputDone.Task;

    /// <summary>Receives the pty master runc sends on the console socket (SCM_RIGHTS), waiting up to <paramref name="timeoutMs"/>.</summary>
    public static SafeFileHandle ReceiveMaster(Socket connection, int timeoutMs)
    {
        var handle = connection.SafeHandle;
        byte* data = stackalloc byte[4096];
        byte* control = stackalloc byte[64];
        while (true)
        {
            var pfd = new Native.PollFd { Fd = (int)handle.DangerousGetHandle(), Events = Native.POLLIN };
            int pr = Native.poll(&pfd, 1, timeoutMs);
            if (pr < 0 && Native.Errno == Native.EINTR)
            {
                continue;
            }

            if (pr <= 0)
            {
                throw new IOException("no pty master received on the console socket");
            }

            new Span<byte>(control, 64).Clear();
            var iov = new Native.IoVec { Base = data, Len = 4096 };
            var msg = new Native.MsgHdr { Iov = &iov, IovLen = 1, Control = control, ControlLen = 64 };
            nint n = Native.recvmsg(handle, &msg, Native.MSG_CMSG_CLOEXEC);
            if (n < 0)
            {
                int errno = Native.Errno;
                if (errno is Native.EINTR or Native.EAGAIN)
                {
                    continue;
                }

                throw new IOException("recvmsg on the console socket: " + Marshal.GetPInvokeErrorMessage(errno));
            }

            // cmsghdr { size_t len; int level; int type; } then the fd.
            if (msg.ControlLen >= 20 && *(nuint*)control >= 20 && *(int*)(control + 8) == Native.SOL_SOCKET && *(int*)(control + 12) == Native.SCM_RIGHTS)
            {
                return new SafeFileHandle(*(int*)(control + 16), ownsHandle: true);
            }

            throw new IOException("the console socket message carried no fd");
        }
    }

    /// <summary>TIOCSWINSZ on the master.</summary>
    public bool Resize(ushort rows, ushort cols)
    {
        if (_closed)
        {
            return false;
        }

        var ws = new Native.WinSize { Row = rows, Col = cols };
        try
        {
            return Native.ioctl(_master, Native.TIOCSWINSZ, &ws) == 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Starts the copying threads.</summary>
    public void Start()
    {
        new Thread(CopyOut) { IsBackground = true, Name = "pty-out" }.Start();
        if (_stdin is not null)
        {
            new Thread(CopyIn) { IsBackground = true, Name = "pty-in" }.Start();
        }
    }

    private void CopyOut()
    {
        byte[] buffer = new byte[32 * 1024];
        bool sending = _stdout is not null;
        try
        {
            fixed (byte* p = buffer)
            {
                while (true)
                {
                    nint n = Native.read(_master, p, buffer.Length);
                    if (n < 0 && Native.Errno == Native.EINTR)
                    {
                        continue;
                    }

                    if (n <= 0)
                    {
                        break; // EIO: every slave fd is closed
                    }

                    if (sending)
                    {
                        try
                        {
                            _stdout!.Send(buffer.AsSpan(0, (int)n));
                        }
                        catch (Exception e) when (e is SocketException or ObjectDisposedException)
                        {
                            sending = false; // the reader went away: keep draining so the process does not block
                        }
                    }
                }
            }
        }
        finally
        {
            _closed = true;
            if (_stdout is not null)
            {
                try
                {
                    _stdout.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                    // already gone
                }

                _stdout.Dispose();
            }

            if (_stdin is not null)
            {
                try
                {
                    _stdin.Shutdown(SocketShutdown.Both); // wakes the input thread
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // already gone
                }
            }

            _master.Dispose();
            _outputDone.TrySetResult();
        }
    }

    private void CopyIn()
    {
        byte[] buffer = new byte[32 * 1024];
        try
        {
            while (true)
            {
                int n = _stdin!.Receive(buffer);
                if (_closed)
                {
                    break;
                }

                if (n == 0)
                {
                    Native.WriteAll(_master, [0x04]); // VEOF
                    break;
                }

                if (!Native.WriteAll(_master, buffer.AsSpan(0, n)))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // the client closed, or the process side ended
        }
        finally
        {
            _stdin!.Dispose();
        }
    }
}
