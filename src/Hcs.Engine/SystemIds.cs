// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Engine;

/// <summary>Rules for compute system ids. Ids become directory and socket names in backends, so they are strict.</summary>
public static class SystemIds
{
    /// <summary>Longest accepted id.</summary>
    public const int MaxLength = 128;

    /// <summary>Throws <c>E_INVALIDARG</c> unless <paramref name="id"/> is 1–128 characters of letters, digits, <c>-_.{}</c>, not starting with a dot.</summary>
    public static void Validate(string? id, string operation)
    {
        var reason = Check(id);
        if (reason is not null)
        {
            throw new HcsException(HResults.E_INVALIDARG, operation, id,
                result: ResultError.From(HResults.E_INVALIDARG, $"invalid compute system id: {reason}"));
        }
    }

    /// <summary>Why <paramref name="id"/> is not a valid system id, or null if it is.</summary>
    internal static string? Check(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "the id is empty";
        }

        if (id.Length > MaxLength)
        {
            return $"the id is longer than {MaxLength} characters";
        }

        if (id[0] == '.')
        {
            return "the id starts with '.'";
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '{' or '}'))
            {
                return $"character U+{(int)c:X4} is not allowed (letters, digits, '-', '_', '.', '{{', '}}')";
            }
        }

        return null;
    }
}
