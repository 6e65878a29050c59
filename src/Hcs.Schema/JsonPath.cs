// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json;

namespace Hcs.Schema;

/// <summary>Builds JSON paths (<c>$.VirtualMachine.Devices.Scsi['Primary disk'].Attachments['0']</c>) and names JSON kinds.</summary>
internal static class JsonPath
{
    /// <summary>The root path.</summary>
    public const string Root = "$";

    /// <summary>Path of member (or map key) <paramref name="name"/> under <paramref name="parent"/>.</summary>
    /// <remarks>A long name is truncated (<see cref="ErrorText.Truncate"/>): paths are for messages.</remarks>
    public static string Member(string parent, string name)
    {
        name = ErrorText.Truncate(name);
        return IsIdentifier(name) ? $"{parent}.{name}" : $"{parent}['{name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal)}']";
    }

    /// <summary>Path of element <paramref name="index"/> under <paramref name="parent"/>.</summary>
    public static string Index(string parent, int index) => $"{parent}[{index}]";

    /// <summary>The kind of a JSON value with its article, e.g. "a string", for messages.</summary>
    public static string KindOf(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
