// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using System.Text;

namespace Hcs.Shim;

/// <summary>
/// <c>hcs-shim launch --log FILE [--parent PID --fd N…] -- PROGRAM ARG…</c>: becomes PROGRAM (<c>execvp</c>, same pid) in
/// a session of its own, with stdin from <c>/dev/null</c>, stdout/stderr appended to FILE and, for each <c>--fd N</c>, a
/// copy of the parent's descriptor N (<c>pidfd_getfd</c>) as descriptor 3, 4, … in the order given (the QEMU backend
/// passes QEMU what it opened with a client's credentials: listening sockets, disk images). The QEMU backend starts QEMU through it:
/// .NET's <c>Process</c> can give a child only pipes or the parent's own stdio, and a pipe to the engine (or the
/// engine's terminal and process group) would tie QEMU's life to the engine's. QEMU stays the engine's child (the same
/// pid), so the engine still reaps it and learns its exit status.
/// </summary>
internal static unsafe class Launch
{
    private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400, O_CLOEXEC = 0x80000;
    private const int F_DUPFD_CLOEXEC = 1030;
    private const long SYS_pidfd_open = 434, SYS_pidfd_getfd = 438;

    /// <summary>Parses <paramref name="args"/> (after <c>launch</c>) and execs; returns only on failure (exit code).</summary>
    public static int Run(ReadOnlySpan<string> args)
    {
        if (args is not ["--log", var log, ..])
        {
            return Usage();
        }

        // --parent PID --fd N [--fd N…]: descriptors to take from the parent (the engine), which must be PID.
        int parent = 0;
        var take = new List<int>();
        var at = 2;
        while (at + 1 < args.Length && args[at] is "--parent" or "--fd")
        {
            if (!int.TryParse(args[at + 1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                return Usage();
            }

            if (args[at] == "--parent")
            {
                parent = value;
            }
            else
            {
                take.Add(value);
            }

            at += 2;
        }

        if (at + 1 >= args.Length || args[at] != "--" || (take.Count > 0 && parent <= 0))
        {
            return Usage();
        }

        var program = args[at + 1];

        int output = Native.open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0x180); // 0600
        if (output < 0)
        {
            Native.Log($"launch: cannot open {log}: {Marshal.GetPInvokeErrorMessage(Native.Errno)}");
            return 126;
        }

        int input = Native.open("/dev/null", O_RDONLY | O_CLOEXEC, 0);
        if (input < 0 || Native.dup2(input, 0) < 0 || Native.dup2(output, 1) < 0 || Native.dup2(output, 2) < 0)
        {
            Native.Log($"launch: cannot set up stdio: {Marshal.GetPInvokeErrorMessage(Native.Errno)}");
            return 126;
        }

        if (take.Count > 0 && TakeDescriptors(parent, take) is { } error)
        {
            Native.Log($"launch: {error}");
            return 126;
        }

        // Nothing else the engine inherited (a test runner's pipe, a terminal) may stay open in the long-lived program.
        _ = Native.close_range((uint)(3 + take.Count), uint.MaxValue, 0);

        // Not killed with the engine's process group or terminal (Ctrl-C, SIGHUP). We are not a group leader (a fresh
        // child of the engine), so setsid succeeds.
        _ = Native.setsid();
        var argv = args[(at + 1)..];
        byte** cargv = (byte**)NativeMemory.AllocZeroed((nuint)(argv.Length + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < argv.Length; i++)
        {
            cargv[i] = Utf8(argv[i]);
        }

        Native.ResetSignals();
        _ = Native.execvp(cargv[0], cargv);
        Native.Log($"launch: cannot run {program}: {Marshal.GetPInvokeErrorMessage(Native.Errno)}");
        return 127;
    }

    private static int Usage()
    {
        Native.Log("usage: hcs-shim launch --log FILE [--parent PID --fd N...] -- PROGRAM [ARG...]");
        return 2;
    }

    /// <summary>
    /// Copies descriptor <c>take[i]</c> of <paramref name="parent"/> to descriptor <c>3 + i</c> (inherited by the
    /// program). The parent must still be our parent once its pidfd is open, so a pid reused after the engine died
    /// (we would have been re-parented) is never read from. Returns an error message, or null.
    /// </summary>
    private static string? TakeDescriptors(int parent, List<int> take)
    {
        var pidfd = (int)Native.syscall(SYS_pidfd_open, parent, 0, 0);
        if (pidfd < 0)
        {
            return $"pidfd_open({parent}): {Marshal.GetPInvokeErrorMessage(Native.Errno)}";
        }

        if (Native.getppid() != parent)
        {
            return $"process {parent} is not the launcher's parent";
        }

        var high = new int[take.Count];
        for (int i = 0; i < take.Count; i++)
        {
            var copy = (int)Native.syscall(SYS_pidfd_getfd, pidfd, take[i], 0);
            if (copy < 0)
            {
                return $"cannot take descriptor {take[i]} of process {parent}: {Marshal.GetPInvokeErrorMessage(Native.Errno)}";
            }

            // Above every target, so placing one never overwrites another still to be placed.
            high[i] = Native.fcntl(copy, F_DUPFD_CLOEXEC, 3 + take.Count);
            if (high[i] < 0)
            {
                return $"cannot move descriptor {take[i]}: {Marshal.GetPInvokeErrorMessage(Native.Errno)}";
            }
        }

        for (int i = 0; i < take.Count; i++)
        {
            // dup2 clears close-on-exec on the target: the program inherits it.
            if (Native.dup2(high[i], 3 + i) < 0)
            {
                return $"cannot place descriptor {take[i]} at {3 + i}: {Marshal.GetPInvokeErrorMessage(Native.Errno)}";
            }
        }

        return null;
    }

    private static byte* Utf8(string s)
    {
        int length = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, length));
        p[length] = 0;
        return p;
    }
}
