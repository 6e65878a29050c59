// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using System.Text;

namespace Hcs.Shim;

/// <summary>
/// <c>hcs-shim launch --log FILE -- PROGRAM ARG…</c>: becomes PROGRAM (<c>execvp</c>, same pid) in a session of its
/// own, with stdin from <c>/dev/null</c> and stdout/stderr appended to FILE. The QEMU backend starts QEMU through it:
/// .NET's <c>Process</c> can give a child only pipes or the parent's own stdio, and a pipe to the engine (or the
/// engine's terminal and process group) would tie QEMU's life to the engine's. QEMU stays the engine's child (the same
/// pid), so the engine still reaps it and learns its exit status.
/// </summary>
internal static unsafe class Launch
{
    private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400, O_CLOEXEC = 0x80000;

    /// <summary>Parses <paramref name="args"/> (after <c>launch</c>) and execs; returns only on failure (exit code).</summary>
    public static int Run(ReadOnlySpan<string> args)
    {
        if (args is not ["--log", var log, "--", var program, ..])
        {
            Native.Log("usage: hcs-shim launch --log FILE -- PROGRAM [ARG...]");
            return 2;
        }

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

        // Nothing else the engine inherited (a test runner's pipe, a terminal) may stay open in the long-lived program.
        _ = Native.close_range(3, uint.MaxValue, 0);

        // Not killed with the engine's process group or terminal (Ctrl-C, SIGHUP). We are not a group leader (a fresh
        // child of the engine), so setsid succeeds.
        _ = Native.setsid();
        var argv = args[3..];
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

    private static byte* Utf8(string s)
    {
        int length = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, length));
        p[length] = 0;
        return p;
    }
}
