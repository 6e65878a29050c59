// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Schema;

/// <summary>
/// How error texts quote what a caller sent: an offending value or member name is quoted truncated, so a huge input
/// never makes a huge error (a 6 MB member name once made a 72 MB reply).
/// </summary>
public static class ErrorText
{
    /// <summary>The most characters of an offending value an error text quotes (64).</summary>
    public const int MaxQuotedChars = 64;

    /// <summary>
    /// <paramref name="value"/> itself when it has at most <see cref="MaxQuotedChars"/> characters, otherwise its first
    /// <see cref="MaxQuotedChars"/> characters (never half a surrogate pair) followed by <c>…(N chars)</c>.
    /// </summary>
    /// <param name="value">The offending value; null is quoted as an empty string.</param>
    public static string Truncate(string? value)
    {
        if (value is null)
        {
            return "";
        }

        if (value.Length <= MaxQuotedChars)
        {
            return value;
        }

        var cut = char.IsHighSurrogate(value[MaxQuotedChars - 1]) ? MaxQuotedChars - 1 : MaxQuotedChars;
        return string.Concat(value.AsSpan(0, cut), "…(", value.Length.ToString(CultureInfo.InvariantCulture), " chars)");
    }
}
