// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hcs.Client;
using Hcs.Linux;
using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// <c>HCS_PROCESS_INFORMATION</c> on Linux: each stdio stream of a process becomes a file descriptor the caller owns,
/// carried in the <c>HANDLE</c> as <c>(HANDLE)(intptr_t)fd</c>; an absent stream is <c>INVALID_HANDLE_VALUE</c>. The
/// descriptor is one end of an <c>AF_UNIX</c> stream socket pair (close-on-exec); a pump (<see cref="StdioPumps"/>)
/// copies between the other end and the managed stream.
/// <para>
/// Each stream is handed out <b>once</b>: the first retrieval of a process's information that succeeds (from its create
/// or any get-info operation) gets the descriptors, every later one gets <c>INVALID_HANDLE_VALUE</c> for that stream.
/// Keeping a copy of the caller's end to give out again would hide the caller's close from the pump, so neither stdin's
/// EOF nor an early close of stdout could ever be seen.
/// </para>
/// </summary>
internal static unsafe class StdioBridge
{
    /// <summary><c>INVALID_HANDLE_VALUE</c>.</summary>
    public const nint InvalidHandle = -1;

    private const int ENOMEM = 12, ENFILE = 23, EMFILE = 24;

    private static readonly ConditionalWeakTable<Stream, object> s_handedOut = new();
    private static readonly Lock s_gate = new();

    /// <summary>Sets <paramref name="destination"/> (if given) to the empty answer: id 0, every stream absent.</summary>
    public static void Clear(ProcessInformationNative* destination)
    {
        if (destination != null)
        {
            *destination = new ProcessInformationNative { StdInput = InvalidHandle, StdOutput = InvalidHandle, StdError = InvalidHandle };
        }
    }

    /// <summary>
    /// Fills <paramref name="destination"/> from <paramref name="information"/>, bridging each stream not handed out yet.
    /// Returns <c>S_OK</c>, or the failure to make the descriptors (then nothing is handed out).
    /// </summary>
    public static int Store(ProcessInformationNative* destination, HcsProcessInformation? information)
    {
        Clear(destination);
        if (destination == null || information is null)
        {
            return HResults.S_OK;
        }

        var hr = HandOut(information, out var stdin, out var stdout, out var stderr);
        if (hr < 0)
        {
            return hr;
        }

        *destination = new ProcessInformationNative
        {
            ProcessId = information.ProcessId,
            StdInput = stdin,
            StdOutput = stdout,
            StdError = stderr,
        };
        return HResults.S_OK;
    }

    /// <summary>
    /// The caller's descriptors for the streams of <paramref name="information"/> not handed out before (the others,
    /// and absent ones, are <see cref="InvalidHandle"/>); starts a pump per stream handed out now.
    /// </summary>
    public static int HandOut(HcsProcessInformation information, out nint stdin, out nint stdout, out nint stderr)
    {
        stdin = stdout = stderr = InvalidHandle;
        Stream?[] streams = [information.StdInput, information.StdOutput, information.StdError];
        var ours = new int[3];
        var theirs = new int[3];
        lock (s_gate)
        {
            for (var i = 0; i < 3; i++)
            {
                ours[i] = theirs[i] = -1;
                if (streams[i] is not { } stream || s_handedOut.TryGetValue(stream, out _))
                {
                    streams[i] = null;
                    continue;
                }

                if (!SocketPair.TryCreate(out ours[i], out theirs[i]))
                {
                    var errno = LinuxCalls.Errno;
                    for (var j = 0; j < i; j++)
                    {
                        if (ours[j] >= 0)
                        {
                            SocketPair.Close(ours[j]);
                            SocketPair.Close(theirs[j]);
                        }
                    }

                    return errno switch
                    {
                        EMFILE or ENFILE => HResults.ERROR_NO_SYSTEM_RESOURCES,
                        ENOMEM => HResults.E_OUTOFMEMORY,
                        _ => HResults.E_FAIL,
                    };
                }
            }

            foreach (var stream in streams)
            {
                if (stream is not null)
                {
                    s_handedOut.Add(stream, stream);
                }
            }
        }

        if (streams[0] is { } input)
        {
            var socket = Wrap(ours[0]);
            _ = Task.Run(() => StdioPumps.ToProcessAsync(socket, input));
            stdin = theirs[0];
        }

        if (streams[1] is { } output)
        {
            _ = StdioPumps.FromProcessAsync(output, ours[1]);
            stdout = theirs[1];
        }

        if (streams[2] is { } error)
        {
            _ = StdioPumps.FromProcessAsync(error, ours[2]);
            stderr = theirs[2];
        }

        return HResults.S_OK;
    }

    /// <summary>Our end of a pair as a <see cref="Socket"/> that owns the descriptor.</summary>
    public static Socket Wrap(int fd) => new(new SafeSocketHandle(fd, ownsHandle: true));

    /// <summary><c>HCS_PROCESS_INFORMATION</c> (32 bytes on LP64).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ProcessInformationNative
    {
        /// <summary>The process id.</summary>
        public uint ProcessId;

        /// <summary>Reserved (0).</summary>
        public uint Reserved;

        /// <summary>The caller's stdin descriptor, or <see cref="InvalidHandle"/>.</summary>
        public nint StdInput;

        /// <summary>The caller's stdout descriptor, or <see cref="InvalidHandle"/>.</summary>
        public nint StdOutput;

        /// <summary>The caller's stderr descriptor, or <see cref="InvalidHandle"/>.</summary>
        public nint StdError;
    }
}
