// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;

namespace Hcs.Shim;

/// <summary>
/// <c>hcs-shim init</c>: the container's idle PID 1. Reaps orphans; on SIGTERM (or SIGINT, SIGHUP) sends SIGTERM to
/// every other process of the pid namespace, waits until none is left (polling <c>kill(-1, 0)</c> every 10 ms) and
/// exits 0. Says "ready" on its stdout once it handles SIGTERM. Needs nothing from the container's file system.
/// </summary>
internal static class Init
{
    public static async Task<int> RunAsync()
    {
        if (Native.getpid() != 1)
        {
            Native.Log("init: must run as PID 1 of its pid namespace (the container's init)");
            return 2;
        }

        var terminate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var childExited = new SemaphoreSlim(0);
        void OnTerminate(PosixSignalContext context)
        {
            context.Cancel = true;
            terminate.TrySetResult();
        }

        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnTerminate);
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnTerminate);
        using var chld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => childExited.Release());

        // Ready: SIGTERM is handled from here on (before, the kernel discards it: PID 1 has no default action). The
        // monitor gave runc create a pipe as our stdout and waits for this line; then fd 1 becomes a copy of stderr
        // (/dev/null), which closes the pipe. A write error (no monitor reading) is ignored.
        _ = Native.WriteAll(1, "ready\n"u8);
        _ = Native.dup2(2, 1);

        while (!terminate.Task.IsCompleted)
        {
            ReapAll();
            _ = await Task.WhenAny(terminate.Task, childExited.WaitAsync()).ConfigureAwait(false);
        }

        _ = Native.kill(-1, Native.SIGTERM);
        while (true)
        {
            ReapAll();
            if (Native.kill(-1, 0) != 0 && Native.Errno == Native.ESRCH)
            {
                return 0;
            }

            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    private static unsafe void ReapAll()
    {
        int status;
        while (true)
        {
            int pid = Native.waitpid(-1, &status, Native.WNOHANG);
            if (pid > 0 || (pid < 0 && Native.Errno == Native.EINTR))
            {
                continue;
            }

            return;
        }
    }
}
