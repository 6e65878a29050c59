// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using System.Text;

namespace Hcs.ComputeCore;

/// <summary>
/// <c>PCWSTR</c> in and <c>PWSTR</c> out: Linux's native 4-byte <c>wchar_t</c>, so strings cross as UTF-32. Strings
/// returned to the caller are <c>malloc</c>ed (<see cref="NativeMemory.Alloc(nuint)"/>) and freed by the caller with
/// <c>LocalFree</c>.
/// </summary>
internal static unsafe class NativeStrings
{
    /// <summary>The longest string accepted from a caller, in characters (documents are bounded by hcsd long before this).</summary>
    public const int MaxLength = 64 * 1024 * 1024;

    private static readonly UTF32Encoding s_utf32 = new(bigEndian: false, byteOrderMark: false, throwOnInvalidCharacters: true);

    /// <summary>
    /// The string at <paramref name="p"/> (null for a null pointer). Throws <see cref="ArgumentException"/> for a string
    /// that is longer than <see cref="MaxLength"/> or holds a value that is not a Unicode scalar value.
    /// </summary>
    public static string? Read(nint p)
    {
        if (p == 0)
        {
            return null;
        }

        var chars = (int*)p;
        var length = 0;
        while (chars[length] != 0)
        {
            if (++length > MaxLength)
            {
                throw new ArgumentException($"a string argument is longer than {MaxLength} characters");
            }
        }

        try
        {
            return s_utf32.GetString((byte*)p, length * 4);
        }
        catch (DecoderFallbackException e)
        {
            throw new ArgumentException("a string argument holds a wchar_t that is not a Unicode scalar value", e);
        }
    }

    /// <summary>A new NUL-terminated UTF-32 copy of <paramref name="value"/> the caller frees with <c>LocalFree</c>; 0 for null.</summary>
    public static nint Allocate(string? value)
    {
        if (value is null)
        {
            return 0;
        }

        var bytes = s_utf32.GetByteCount(value);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes + 4);
        var written = s_utf32.GetBytes(value, new Span<byte>(p, bytes));
        *(int*)(p + written) = 0;
        return (nint)p;
    }

    /// <summary>Stores a new copy of <paramref name="value"/> in <paramref name="destination"/> when the caller asked for it.</summary>
    public static void Store(nint* destination, string? value)
    {
        if (destination != null)
        {
            *destination = Allocate(value);
        }
    }
}
