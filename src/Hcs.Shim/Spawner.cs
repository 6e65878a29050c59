// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace Hcs.Shim;

/// <summary>
/// posix_spawn without .NET's Process class (which would install SIGCHLD handling and reap the monitor's children).
/// The child gets default signal dispositions and an empty signal mask (the runtime ignores SIGPIPE; the monitor
/// ignores SIGHUP/SIGINT: none of that may leak into container processes) and the monitor's environment.
/// </summary>
internal static unsafe class Spawner
{
    private static readonly Lock s_envLock = new();
    private static byte** s_envp;

    /// <summary>Starts <paramref name="path"/> with <paramref name="args"/> (argv[0] included) and the given fds as 0, 1, 2.</summary>
    /// <returns>The child's pid.</returns>
    internal static int Spawn(string path, IReadOnlyList<string> args, int stdin, int stdout, int stderr)
    {
        byte** envp = Environ();
        byte* cpath = Utf8(path);
        byte** argv = (byte**)NativeMemory.AllocZeroed((nuint)(args.Count + 1), (nuint)sizeof(byte*));
        void* actions = NativeMemory.AllocZeroed(256);
        void* attr = NativeMemory.AllocZeroed(512);
        void* sigmask = NativeMemory.AllocZeroed(128);
        void* sigdefault = NativeMemory.AllocZeroed(128);
        try
        {
            for (int i = 0; i < args.Count; i++)
            {
                argv[i] = Utf8(args[i]);
            }

            Check(Native.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            Check(Native.posix_spawnattr_init(attr), "posix_spawnattr_init");
            try
            {
                Check(Native.posix_spawn_file_actions_adddup2(actions, stdin, 0), "adddup2");
                Check(Native.posix_spawn_file_actions_adddup2(actions, stdout, 1), "adddup2");
                Check(Native.posix_spawn_file_actions_adddup2(actions, stderr, 2), "adddup2");
                _ = Native.sigemptyset(sigmask);
                _ = Native.sigfillset(sigdefault);
                Check(Native.posix_spawnattr_setsigmask(attr, sigmask), "posix_spawnattr_setsigmask");
                Check(Native.posix_spawnattr_setsigdefault(attr, sigdefault), "posix_spawnattr_setsigdefault");
                Check(Native.posix_spawnattr_setflags(attr, Native.POSIX_SPAWN_SETSIGDEF | Native.POSIX_SPAWN_SETSIGMASK), "posix_spawnattr_setflags");
                int pid;
                int rc = Native.posix_spawn(&pid, cpath, actions, attr, argv, envp);
                if (rc != 0)
                {
                    throw new Win32Exception(rc, $"posix_spawn {path}: {Marshal.GetPInvokeErrorMessage(rc)}");
                }

                return pid;
            }
            finally
            {
                _ = Native.posix_spawn_file_actions_destroy(actions);
                _ = Native.posix_spawnattr_destroy(attr);
            }
        }
        finally
        {
            for (int i = 0; i < args.Count; i++)
            {
                NativeMemory.Free(argv[i]);
            }

            NativeMemory.Free(argv);
            NativeMemory.Free(cpath);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigmask);
            NativeMemory.Free(sigdefault);
        }
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new Win32Exception(rc, what + ": " + Marshal.GetPInvokeErrorMessage(rc));
        }
    }

    /// <summary>The monitor's environment as a null-terminated envp (built once, kept for the process's life).</summary>
    private static byte** Environ()
    {
        lock (s_envLock)
        {
            if (s_envp == null)
            {
                var vars = new List<string>();
                foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
                {
                    vars.Add($"{e.Key}={e.Value}");
                }

                byte** envp = (byte**)NativeMemory.AllocZeroed((nuint)(vars.Count + 1), (nuint)sizeof(byte*));
                for (int i = 0; i < vars.Count; i++)
                {
                    envp[i] = Utf8(vars[i]);
                }

                s_envp = envp;
            }

            return s_envp;
        }
    }

    private static byte* Utf8(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        fixed (char* c = s)
        {
            _ = Encoding.UTF8.GetBytes(c, s.Length, p, n);
        }

        p[n] = 0;
        return p;
    }
}
