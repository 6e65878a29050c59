// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hcs.Schema;

namespace Hcs.Backends.Runc;

/// <summary>
/// Writes the OCI <c>process</c> JSON of <c>runc exec --process FILE</c> for a <c>ProcessParameters</c> document.
/// <list type="bullet">
/// <item><c>args</c>: <c>CommandArgs</c> when non-empty, else <c>CommandLine</c> split into words by
/// <see cref="SplitCommandLine"/> (POSIX shell quoting, no expansion, no shell).</item>
/// <item><c>env</c>: <c>Environment</c> as <c>K=V</c> (keys non-empty, without <c>=</c> or NUL), plus the default
/// <c>PATH</c> when it has none.</item>
/// <item><c>cwd</c>: <c>WorkingDirectory</c> (absolute) or <c>/</c>.</item>
/// <item><c>user</c>: <c>User</c> null → 0:0; <c>uid</c>, <c>uid:gid</c>, <c>name</c> or <c>name:group</c>, names looked up in
/// the container's <c>/etc/passwd</c> and <c>/etc/group</c> (a name's primary group comes from passwd; a numeric uid
/// without a group takes its passwd entry's group, else 0).</item>
/// <item><c>terminal</c> = <c>EmulateConsole</c>; <c>consoleSize</c> from <c>ConsoleSize</c> [height, width].</item>
/// <item>capabilities and rlimits of <c>runc spec</c>, <c>noNewPrivileges</c>.</item>
/// <item>Refused: <c>ApplicationName</c>, <c>RestrictedToken</c>, <c>UseExistingLogin</c>, <c>UseLegacyConsole</c> (true).</item>
/// </list>
/// Every failure is <c>HCS_E_INVALID_JSON</c> naming the member (<c>$.CommandLine</c>, <c>$.User</c>, …).
/// </summary>
internal static class ProcessSpec
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>The process JSON of <paramref name="parameters"/> for a container whose root is <paramref name="rootfsPath"/>.</summary>
    public static string Build(ProcessParameters parameters, string rootfsPath) => BuildObject(parameters, rootfsPath).ToJsonString(s_indented);

    /// <summary>The process object of <paramref name="parameters"/> (see <see cref="Build"/>).</summary>
    public static JsonObject BuildObject(ProcessParameters parameters, string rootfsPath)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(rootfsPath);
        Refuse(parameters.ApplicationName is not null, "$.ApplicationName", "give the program as the first word of CommandLine or CommandArgs; ApplicationName is Windows-only");
        Refuse(parameters.RestrictedToken == true, "$.RestrictedToken", "restricted tokens are Windows-only");
        Refuse(parameters.UseExistingLogin == true, "$.UseExistingLogin", "login sessions are Windows-only");
        Refuse(parameters.UseLegacyConsole == true, "$.UseLegacyConsole", "the legacy console is Windows-only");

        var (uid, gid) = ResolveUser(parameters.User, rootfsPath);
        var process = new JsonObject
        {
            ["terminal"] = parameters.EmulateConsole == true,
        };
        if (parameters.ConsoleSize is { } size)
        {
            if (size.Count != 2)
            {
                throw HcsException.InvalidJson("$.ConsoleSize", string.Create(CultureInfo.InvariantCulture,
                    $"exactly 2 elements are required, [height, width]; {size.Count} given"));
            }

            process["consoleSize"] = new JsonObject { ["height"] = (uint)size[0], ["width"] = (uint)size[1] };
        }

        process["user"] = new JsonObject { ["uid"] = uid, ["gid"] = gid };
        process["args"] = new JsonArray([.. Args(parameters).Select(a => (JsonNode?)JsonValue.Create(a))]);
        process["env"] = new JsonArray([.. Env(parameters.Environment).Select(e => (JsonNode?)JsonValue.Create(e))]);
        process["cwd"] = parameters.WorkingDirectory is { } cwd ? RuncPaths.Checked(cwd, "$.WorkingDirectory") : "/";
        process["capabilities"] = OciSpec.Capabilities();
        process["rlimits"] = OciSpec.Rlimits();
        process["noNewPrivileges"] = true;
        return process;
    }

    /// <summary>The argument vector: <c>CommandArgs</c> if non-empty, else the words of <c>CommandLine</c>.</summary>
    public static IReadOnlyList<string> Args(ProcessParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.CommandArgs is { Count: > 0 } args)
        {
            for (var i = 0; i < args.Count; i++)
            {
                if (args[i] is null || args[i].Contains('\0', StringComparison.Ordinal))
                {
                    throw HcsException.InvalidJson(string.Create(CultureInfo.InvariantCulture, $"$.CommandArgs[{i}]"), "an argument must be a string without NUL characters");
                }
            }

            if (args[0].Length == 0)
            {
                throw HcsException.InvalidJson("$.CommandArgs[0]", "the program name must not be empty");
            }

            return args;
        }

        if (string.IsNullOrWhiteSpace(parameters.CommandLine))
        {
            throw HcsException.InvalidJson("$.CommandLine", "a command is required: CommandLine or CommandArgs");
        }

        var words = SplitCommandLine(parameters.CommandLine);
        return words.Count > 0 && words[0].Length > 0 ? words : throw HcsException.InvalidJson("$.CommandLine", "the program name must not be empty");
    }

    /// <summary>
    /// Splits a command line into words like a POSIX shell does, without any expansion: blanks (space, tab, newline)
    /// separate words; inside single quotes every character is literal; inside double quotes a backslash escapes
    /// <c>"</c> <c>\</c> <c>$</c> <c>`</c> (and a newline, which disappears), other backslashes stay; outside quotes a
    /// backslash makes the next character literal (a backslash-newline disappears). <c>''</c> is an empty word. An
    /// unterminated quote or a trailing backslash is <c>HCS_E_INVALID_JSON</c> at <paramref name="jsonPath"/>.
    /// Operators (<c>|</c>, <c>;</c>, <c>&gt;</c> …) are ordinary characters: there is no shell.
    /// </summary>
    public static IReadOnlyList<string> SplitCommandLine(string commandLine, string jsonPath = "$.CommandLine")
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        if (commandLine.Contains('\0', StringComparison.Ordinal))
        {
            throw HcsException.InvalidJson(jsonPath, "NUL characters are not allowed in a command line");
        }

        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            switch (c)
            {
                case ' ' or '\t' or '\n':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    {
                        var end = commandLine.IndexOf('\'', i + 1);
                        if (end < 0)
                        {
                            throw Unbalanced(jsonPath, "single quote", i);
                        }

                        word.Append(commandLine, i + 1, end - i - 1);
                        inWord = true;
                        i = end;
                        break;
                    }

                case '"':
                    {
                        var start = i;
                        inWord = true;
                        for (i++; ; i++)
                        {
                            if (i >= commandLine.Length)
                            {
                                throw Unbalanced(jsonPath, "double quote", start);
                            }

                            var d = commandLine[i];
                            if (d == '"')
                            {
                                break;
                            }

                            if (d == '\\' && i + 1 < commandLine.Length && commandLine[i + 1] is '"' or '\\' or '$' or '`' or '\n')
                            {
                                i++;
                                if (commandLine[i] != '\n')
                                {
                                    word.Append(commandLine[i]);
                                }
                            }
                            else
                            {
                                word.Append(d);
                            }
                        }

                        break;
                    }

                case '\\':
                    if (i + 1 >= commandLine.Length)
                    {
                        throw HcsException.InvalidJson(jsonPath, "the command line ends with an unescaped backslash");
                    }

                    i++;
                    if (commandLine[i] != '\n')
                    {
                        word.Append(commandLine[i]);
                        inWord = true;
                    }

                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words;
    }

    /// <summary>The environment as <c>K=V</c> strings, with the default <c>PATH</c> when <paramref name="environment"/> has none.</summary>
    public static IReadOnlyList<string> Env(IReadOnlyDictionary<string, string>? environment)
    {
        var env = new List<string>();
        var hasPath = false;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            if (key.Length == 0 || key.Contains('=', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
            {
                throw HcsException.InvalidJson($"$.Environment.{ErrorText.Truncate(key)}", "a variable name must be non-empty and contain neither '=' nor NUL");
            }

            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw HcsException.InvalidJson($"$.Environment.{ErrorText.Truncate(key)}", "a value must be a string without NUL characters");
            }

            hasPath |= key == "PATH";
            env.Add($"{key}={value}");
        }

        if (!hasPath)
        {
            env.Insert(0, OciSpec.DefaultPath);
        }

        return env;
    }

    /// <summary>
    /// Resolves <c>User</c>: null or empty → 0:0; <c>uid</c> or <c>name</c> (group: the passwd entry's, else 0);
    /// <c>uid:gid</c>, <c>name:group</c> or mixed. Names come from <c>ROOTFS/etc/passwd</c> and <c>ROOTFS/etc/group</c>
    /// (resolved inside the container's root; regular files only, at most 4 MiB: anything else is refused). Unknown → <c>HCS_E_INVALID_JSON</c> at <c>$.User</c>.
    /// </summary>
    public static (uint Uid, uint Gid) ResolveUser(string? user, string rootfsPath)
    {
        ArgumentNullException.ThrowIfNull(rootfsPath);
        if (string.IsNullOrEmpty(user))
        {
            return (0, 0);
        }

        var colon = user.IndexOf(':', StringComparison.Ordinal);
        var userPart = colon < 0 ? user : user[..colon];
        var groupPart = colon < 0 ? null : user[(colon + 1)..];
        if (userPart.Length == 0 || groupPart is { Length: 0 })
        {
            throw HcsException.InvalidJson("$.User", $"'{ErrorText.Truncate(user)}' is not a user: use uid, uid:gid, name or name:group");
        }

        uint uid;
        uint? primaryGid;
        if (TryId(userPart, out var numericUid))
        {
            uid = numericUid;
            primaryGid = ReadDatabase(rootfsPath, "passwd").FirstOrDefault(e => e.Length > 3 && e[2] == userPart) is { } byUid && TryId(byUid[3], out var g) ? g : null;
        }
        else
        {
            var entry = ReadDatabase(rootfsPath, "passwd").FirstOrDefault(e => e.Length > 3 && e[0] == userPart)
                ?? throw HcsException.InvalidJson("$.User", $"user '{ErrorText.Truncate(userPart)}' is not in the container's /etc/passwd");
            if (!TryId(entry[2], out uid) || !TryId(entry[3], out var entryGid))
            {
                throw HcsException.InvalidJson("$.User", $"the /etc/passwd entry of user '{ErrorText.Truncate(userPart)}' has no valid uid and gid");
            }

            primaryGid = entryGid;
        }

        if (groupPart is null)
        {
            return (uid, primaryGid ?? 0);
        }

        if (TryId(groupPart, out var gid))
        {
            return (uid, gid);
        }

        var group = ReadDatabase(rootfsPath, "group").FirstOrDefault(e => e.Length > 2 && e[0] == groupPart)
            ?? throw HcsException.InvalidJson("$.User", $"group '{ErrorText.Truncate(groupPart)}' is not in the container's /etc/group");
        return TryId(group[2], out gid) ? (uid, gid) : throw HcsException.InvalidJson("$.User", $"the /etc/group entry of group '{ErrorText.Truncate(groupPart)}' has no valid gid");
    }

    private static bool TryId(string text, out uint id) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out id) && id != uint.MaxValue;

    /// <summary>
    /// The colon-separated entries of the container's <c>/etc/NAME</c>, resolved inside the root
    /// (<see cref="ContainerRoot"/>); none when it does not exist. One that is a symbolic link, a FIFO, a device or
    /// anything but a regular file, or larger than <see cref="ContainerRoot.MaxDatabaseBytes"/>, is refused
    /// (<c>HCS_E_INVALID_JSON</c> at <c>$.User</c>) without being read, so a planted FIFO cannot block the service.
    /// </summary>
    private static IEnumerable<string[]> ReadDatabase(string rootfsPath, string name)
    {
        byte[]? bytes;
        try
        {
            using var root = ContainerRoot.Open(rootfsPath);
            bytes = root.ReadRegularFile("/etc/" + name, ContainerRoot.MaxDatabaseBytes, "$.User");
        }
        catch (HcsException e) when (e.HResult == HResults.E_INVALIDARG)
        {
            // As every other failure of User: HCS_E_INVALID_JSON at $.User, with the reason.
            var message = e.Result.ErrorMessage ?? "";
            var at = message.IndexOf("$.User: ", StringComparison.Ordinal);
            throw HcsException.InvalidJson("$.User", at < 0 ? message : message[(at + "$.User: ".Length)..]);
        }

        if (bytes is null)
        {
            return [];
        }

        var lines = Encoding.UTF8.GetString(bytes).Split('\n');
        return lines.Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split(':'));
    }

    private static HcsException Unbalanced(string jsonPath, string what, int at) =>
        HcsException.InvalidJson(jsonPath, string.Create(CultureInfo.InvariantCulture, $"the {what} at offset {at} is never closed"));

    private static void Refuse(bool present, string jsonPath, string why)
    {
        if (present)
        {
            throw HcsException.InvalidJson(jsonPath, why);
        }
    }
}
