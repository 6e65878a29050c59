// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;

namespace Hcs.ComputeCore;

/// <summary>
/// The state behind the Win32 compatibility exports: the thread's last error (<c>GetLastError</c>) and the live event
/// objects (<c>CreateEventW</c>). An event's <c>HANDLE</c> comes from a counter above every possible file descriptor
/// (descriptors are <c>int</c>s) and is never reused, so <c>CloseHandle</c> tells the two kinds apart from the value
/// alone, and a closed event's value is never mistaken for a live one.
/// </summary>
internal static class Win32Objects
{
    /// <summary><c>ERROR_INVALID_HANDLE</c>.</summary>
    public const uint ErrorInvalidHandle = 6;

    /// <summary><c>ERROR_NOT_ENOUGH_MEMORY</c>.</summary>
    public const uint ErrorNotEnoughMemory = 8;

    /// <summary><c>ERROR_GEN_FAILURE</c>.</summary>
    public const uint ErrorGenFailure = 31;

    /// <summary><c>ERROR_NOT_SUPPORTED</c>.</summary>
    public const uint ErrorNotSupported = 50;

    /// <summary><c>ERROR_INVALID_PARAMETER</c>.</summary>
    public const uint ErrorInvalidParameter = 87;

    /// <summary><c>WAIT_OBJECT_0</c>.</summary>
    public const uint WaitObject0 = 0;

    /// <summary><c>WAIT_TIMEOUT</c>.</summary>
    public const uint WaitTimeout = 0x102;

    /// <summary><c>WAIT_FAILED</c>.</summary>
    public const uint WaitFailed = 0xFFFFFFFF;

    /// <summary><c>INFINITE</c>.</summary>
    public const uint Infinite = 0xFFFFFFFF;

    private const long FirstEvent = 1L << 40; // far above int.MaxValue: never a descriptor
    private const long Stride = 0x10;

    private static readonly ConcurrentDictionary<nint, Event> s_events = new();
    private static long s_next = FirstEvent;

    [ThreadStatic]
    private static uint s_lastError;

    /// <summary>This thread's last error.</summary>
    public static uint LastError
    {
        get => s_lastError;
        set => s_lastError = value;
    }

    /// <summary>A new event's handle.</summary>
    public static nint CreateEvent(bool manualReset, bool initialState)
    {
        var handle = (nint)Interlocked.Add(ref s_next, Stride);
        s_events[handle] = new Event(manualReset, initialState);
        return handle;
    }

    /// <summary>The live event behind <paramref name="handle"/>, or null.</summary>
    public static Event? EventOf(nint handle) => s_events.TryGetValue(handle, out var e) ? e : null;

    /// <summary>True if <paramref name="handle"/> was a live event (now closed).</summary>
    public static bool CloseEvent(nint handle) => s_events.TryRemove(handle, out _);

    /// <summary>
    /// A Win32 event: manual-reset (stays signalled, releasing every waiter, until reset) or auto-reset (a successful
    /// wait consumes the signal, so one <c>SetEvent</c> releases exactly one waiter).
    /// </summary>
    internal sealed class Event(bool manualReset, bool initialState)
    {
        private readonly object _gate = new(); // a Monitor, not a Lock: waiters use Monitor.Wait
        private bool _signalled = initialState; // guarded by _gate

        /// <summary><c>SetEvent</c>.</summary>
        public void Set()
        {
            lock (_gate)
            {
                _signalled = true;
                if (manualReset)
                {
                    Monitor.PulseAll(_gate);
                }
                else
                {
                    Monitor.Pulse(_gate);
                }
            }
        }

        /// <summary><c>ResetEvent</c>.</summary>
        public void Reset()
        {
            lock (_gate)
            {
                _signalled = false;
            }
        }

        /// <summary><c>WaitForSingleObject</c>: true when signalled within <paramref name="milliseconds"/> (<see cref="Infinite"/>: no limit).</summary>
        public bool Wait(uint milliseconds)
        {
            var deadline = milliseconds == Infinite ? long.MaxValue : Environment.TickCount64 + milliseconds;
            lock (_gate)
            {
                while (!_signalled)
                {
                    var left = deadline == long.MaxValue ? Timeout.Infinite : deadline - Environment.TickCount64;
                    if (left != Timeout.Infinite && left <= 0)
                    {
                        return false;
                    }

                    Monitor.Wait(_gate, left == Timeout.Infinite ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
                }

                if (!manualReset)
                {
                    _signalled = false;
                }

                return true;
            }
        }
    }
}
