// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.Backends.Qemu;

/// <summary>
/// Values placed inside QEMU option strings (<c>key=value,key=value</c>). QEMU splits on commas, so a comma in a
/// value is doubled (<c>,,</c>); control characters, which no legitimate value needs, are refused. Paths must be
/// absolute and free of <c>..</c> segments. Arguments are passed as an argv array, never through a shell.
/// </summary>
public static class QemuOptions
{
    /// <summary>Escapes <paramref name="value"/> for a QEMU option string; control characters are an <c>HCS_E_INVALID_JSON</c> naming <paramref name="jsonPath"/>.</summary>
    public static string Escape(string value, string jsonPath)
    {
        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw HcsException.InvalidJson(jsonPath, $"control character U+{(int)c:X4} is not allowed in this value");
            }
        }

        return value.Replace(",", ",,", StringComparison.Ordinal);
    }

    /// <summary>Checks a host path from a document (absolute, no <c>..</c>, no control characters) and escapes it.</summary>
    public static string Path(string? path, string jsonPath) => Escape(CheckedPath(path, jsonPath), jsonPath);

    /// <summary>
    /// Checks a host path from a document that the backend opens itself or passes as JSON (saved-state files,
    /// <c>blockdev-add</c>): absolute, no <c>..</c> segment, no control characters. Returns it unchanged.
    /// </summary>
    public static string CheckedPath(string? path, string jsonPath) =>
        Hcs.Linux.HostPaths.Problem(path, ErrorText.Truncate) is { } problem ? throw HcsException.InvalidJson(jsonPath, problem) : path!;

    /// <summary>The longest Unix socket path the kernel accepts (<c>sun_path</c> is 108 bytes with its NUL).</summary>
    public const int MaxSocketPath = 107;

    /// <summary>Checks a Unix socket path from a document: the rules of <see cref="Path"/>, and at most 107 bytes.</summary>
    public static string SocketPath(string? path, string jsonPath)
    {
        var escaped = Path(path, jsonPath);
        return System.Text.Encoding.UTF8.GetByteCount(path!) <= MaxSocketPath
            ? escaped
            : throw HcsException.InvalidJson(jsonPath, $"'{ErrorText.Truncate(path)}' is longer than the {MaxSocketPath} bytes a Unix socket path may have");
    }

    /// <summary>
    /// Checks a path given to an option that is not an option string (<c>-kernel</c>, <c>-initrd</c>): same rules as
    /// <see cref="Path"/>, and commas are refused instead of doubled, so no QEMU parser can ever split it.
    /// </summary>
    public static string PlainPath(string? path, string jsonPath)
    {
        var escaped = Path(path, jsonPath);
        return escaped.Length == path!.Length ? path : throw HcsException.InvalidJson(jsonPath, $"'{ErrorText.Truncate(path)}': commas are not allowed in this path");
    }

    /// <summary>
    /// Refuses (<c>E_ACCESSDENIED</c> naming <paramref name="jsonPath"/>) a path a document names for hcs to create,
    /// bind or replace when it is one of <paramref name="reserved"/> (hcsd's socket, state directory, runtime root) or
    /// lies inside one, compared both as written and with the symbolic links of its directory resolved.
    /// </summary>
    public static void NotReserved(string path, string jsonPath, IReadOnlyList<string> reserved)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(reserved);
        if (reserved.Count == 0)
        {
            return;
        }

        var directory = System.IO.Path.GetDirectoryName(path) ?? "/";
        var resolved = System.IO.Path.Join(Resolve(directory), System.IO.Path.GetFileName(path));
        foreach (var root in reserved)
        {
            var own = root.TrimEnd('/');
            if (Within(path, own) || Within(resolved, own) || Within(resolved, Resolve(own)))
            {
                throw new HcsException(HResults.E_ACCESSDENIED, result: ResultError.From(HResults.E_ACCESSDENIED,
                    $"{jsonPath}: '{Quote(path)}' is the service's own (its socket, state or runtime directory '{Quote(root)}'): no document may name it", "qemu"));
            }
        }

        static bool Within(string candidate, string root) =>
            root.Length == 0 || candidate == root || candidate.StartsWith(root + "/", StringComparison.Ordinal);
    }

    private static string Quote(string value) => value.Length > 256 ? value[..256] + "…" : value;

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symbolic link resolved, as far as it exists; the part that does not
    /// exist is kept as written. At most 40 links are followed, as the kernel does.
    /// </summary>
    internal static string Resolve(string path)
    {
        var pending = new Stack<string>(path.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = "/";
        var links = 0;
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = System.IO.Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = System.IO.Path.Join(current, part);
            string? target = null;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Unreadable: taken as written.
            }

            if (target is null || ++links > 40)
            {
                current = next;
                continue;
            }

            foreach (var segment in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(segment);
            }

            if (target.StartsWith('/'))
            {
                current = "/";
            }
        }

        return current;
    }
}
