// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Checks of paths taken from documents. Every host or container path must be absolute, free of <c>..</c> segments
/// and of control characters (newline, NUL, …). A host path that goes into the overlay option string
/// (<c>lowerdir=a:b,upperdir=…</c>) must also be free of the characters that string gives a meaning to
/// (<c>,</c> <c>:</c> <c>\</c> <c>=</c>): they are refused, never escaped. Failures are <c>HCS_E_INVALID_JSON</c>
/// naming the member.
/// </summary>
internal static class RuncPaths
{
    /// <summary>Characters the kernel's overlay option parser gives a meaning to.</summary>
    public const string OverlayReserved = ",:\\=";

    private static readonly System.Buffers.SearchValues<char> s_reserved = System.Buffers.SearchValues.Create(OverlayReserved);

    /// <summary>Checks an absolute path from a document and returns it unchanged.</summary>
    public static string Checked(string? path, string jsonPath) =>
        Hcs.Linux.HostPaths.Problem(path, ErrorText.Truncate) is { } problem ? throw HcsException.InvalidJson(jsonPath, problem) : path!;

    /// <summary>Checks a host path that is placed in the overlay mount options (<see cref="Checked"/> plus no <c>, : \ =</c>).</summary>
    public static string Overlay(string? path, string jsonPath)
    {
        path = Checked(path, jsonPath);
        var bad = path.AsSpan().IndexOfAny(s_reserved);
        return bad < 0
            ? path
            : throw HcsException.InvalidJson(jsonPath, $"'{ErrorText.Truncate(path)}': the character '{path[bad]}' is not allowed in a path used as an overlay layer (it separates overlay mount options)");
    }
}
