// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Linux;

/// <summary>
/// The one check of a path named in a document or an option: absolute, no <c>..</c> segment, no control characters
/// (newline, NUL, …). Callers word the failure in their own error (e.g. <c>HCS_E_INVALID_JSON</c> naming the member).
/// </summary>
public static class HostPaths
{
    /// <summary>
    /// Null when <paramref name="path"/> is an absolute path without <c>..</c> segments or control characters; else
    /// why not, as a sentence fragment that quotes the path (e.g. <c>'a/b' is not an absolute path</c>).
    /// </summary>
    /// <param name="path">The path.</param>
    /// <param name="quote">How the caller shortens a value it quotes in messages (default: as it is).</param>
    public static string? Problem(string? path, Func<string, string>? quote = null)
    {
        quote ??= static p => p;
        if (string.IsNullOrEmpty(path))
        {
            return "a path is required";
        }

        foreach (var c in path)
        {
            if (char.IsControl(c))
            {
                return string.Create(CultureInfo.InvariantCulture, $"control character U+{(int)c:X4} is not allowed in a path");
            }
        }

        if (!path.StartsWith('/'))
        {
            return $"'{quote(path)}' is not an absolute path";
        }

        return path.Split('/').Contains("..") ? $"'{quote(path)}' contains a '..' segment" : null;
    }

    /// <summary>True when <see cref="Problem"/> finds nothing.</summary>
    public static bool IsValid(string? path) => Problem(path) is null;
}
