// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Hcs.ComputeCore;

/// <summary>
/// The handles the C API gives out (<c>HCS_OPERATION</c>, <c>HCS_SYSTEM</c>, <c>HCS_PROCESS</c>): opaque non-zero values
/// from one counter, never reused, each mapped to its managed object. A value that is not live (closed, never given,
/// or a handle of another kind) resolves to null, so a stale or wrong handle gets <c>E_HANDLE</c>/<c>E_INVALIDARG</c>,
/// never a crash or another object.
/// </summary>
internal static class NativeHandles
{
    private const long Stride = 0x10;

    private static readonly ConcurrentDictionary<nint, object> s_live = new();
    private static readonly ConditionalWeakTable<object, StrongBox<nint>> s_byObject = new();
    private static long s_next = 0x10000;

    /// <summary>The HRESULT for a handle that resolved to nothing: <c>E_INVALIDARG</c> for NULL, <c>E_HANDLE</c> otherwise.</summary>
    public static int Invalid(nint handle) => handle == 0 ? Hcs.Schema.HResults.E_INVALIDARG : Hcs.Schema.HResults.E_HANDLE;

    /// <summary>
    /// Gives <paramref name="value"/> a new handle; <see cref="HandleOf"/> finds it from <paramref name="value"/> or from
    /// <paramref name="managed"/> (the managed object it wraps, as the C# layer hands it back in events).
    /// </summary>
    public static nint Add(object value, object? managed = null)
    {
        var handle = (nint)Interlocked.Add(ref s_next, Stride);
        s_live[handle] = value;
        s_byObject.AddOrUpdate(value, new StrongBox<nint>(handle));
        if (managed is not null)
        {
            s_byObject.AddOrUpdate(managed, new StrongBox<nint>(handle));
        }

        return handle;
    }

    /// <summary>The live object of kind <typeparamref name="T"/> behind <paramref name="handle"/>, or null.</summary>
    public static T? Get<T>(nint handle)
        where T : class =>
        handle != 0 && s_live.TryGetValue(handle, out var value) ? value as T : null;

    /// <summary>The live handle of <paramref name="value"/>, or 0 (none given, or closed).</summary>
    public static nint HandleOf(object? value) =>
        value is not null && s_byObject.TryGetValue(value, out var box) && s_live.ContainsKey(box.Value) ? box.Value : 0;

    /// <summary>Takes <paramref name="handle"/> out of the table; the object of kind <typeparamref name="T"/>, or null.</summary>
    public static T? Remove<T>(nint handle)
        where T : class
    {
        if (handle == 0 || !s_live.TryGetValue(handle, out var value) || value is not T typed)
        {
            return null;
        }

        return s_live.TryRemove(new KeyValuePair<nint, object>(handle, value)) ? typed : null;
    }
}
