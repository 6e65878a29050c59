// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Security.Cryptography;
using System.Text;
using Hcs.Schema;

namespace Hcs.Engine.Backends;

/// <summary>
/// Host facts the Linux backends share: where hcs-shim is, the name a
/// system takes on the host (<see cref="RuntimeName"/>) and how its runtime directory is made
/// (<see cref="CreateRuntimeDirectory"/>).
/// </summary>
public static class LinuxHost
{
    /// <summary>The prefix of a hashed runtime name (<c>h-</c> and <see cref="HashedNameHexDigits"/> lowercase hex digits).</summary>
    public const string HashedNamePrefix = "h-";

    /// <summary>How many hex digits of the id's SHA-256 a hashed runtime name has (96 bits).</summary>
    public const int HashedNameHexDigits = 24;

    /// <summary>The length of every hashed runtime name.</summary>
    public const int HashedNameLength = 26;

    /// <summary>
    /// The file, in a runtime directory, whose exclusive creation claims the directory for one Create: it holds the
    /// system id and a random token, so two directories hold the same claim only if they are the same directory.
    /// </summary>
    public const string RuntimeDirectoryClaim = ".hcs-id";

    /// <summary>
    /// The name system <paramref name="id"/> takes on the host (runtime directory, runc container id, cgroup): the id
    /// itself when the backend can take it (<paramref name="fits"/>) and it does not have the shape of a hashed name,
    /// else <c>h-</c> and the first 24 hex digits of the SHA-256 of its UTF-8 bytes. An id that looks like a hashed
    /// name is hashed too, so no id can name what another id was hashed to: the mapping is injective (up to a
    /// collision of 96-bit SHA-256 prefixes), and the same for every backend and every restart (it depends only on
    /// the id and the backend's fixed constraints). The one owner of this mapping; see docs/security.md (Ids).
    /// </summary>
    public static string RuntimeName(string id, Func<string, bool> fits)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        ArgumentNullException.ThrowIfNull(fits);
        return !IsHashedName(id) && fits(id) ? id : HashedName(id);
    }

    /// <summary>True when <paramref name="name"/> has the shape of a hashed runtime name (<c>h-</c> + 24 lowercase hex digits).</summary>
    public static bool IsHashedName(string name) =>
        name is { Length: HashedNameLength } && name.StartsWith(HashedNamePrefix, StringComparison.Ordinal)
        && !name.AsSpan(HashedNamePrefix.Length).ContainsAnyExcept(s_lowerHex);

    private static readonly System.Buffers.SearchValues<char> s_lowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    private static string HashedName(string id) =>
        HashedNamePrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..HashedNameHexDigits];

    /// <summary>
    /// Makes the runtime directory <paramref name="path"/> of system <paramref name="id"/> as <c>mkdir</c> (not
    /// <c>mkdir -p</c>) would: when anything already exists there — another live system's directory, one of a
    /// service sharing this runtime root, an orphan awaiting the cleaner — it fails with
    /// <c>HCS_E_SYSTEM_ALREADY_EXISTS</c> naming the path and removes nothing. Of two callers racing for one path
    /// exactly one wins: the winner is the one that creates <see cref="RuntimeDirectoryClaim"/> in it (<c>O_EXCL</c>);
    /// the loser fails the same way, again removing nothing. So a caller may remove the directory on its own failure
    /// path: it is its own. The parent is created if missing.
    /// </summary>
    public static void CreateRuntimeDirectory(string path, string id, UnixFileMode mode, string operation)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("runtime directories are made on Linux only");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (Path.Exists(path) || new FileInfo(path).LinkTarget is not null)
        {
            throw AlreadyExists(path, id, operation);
        }

        try
        {
            Directory.CreateDirectory(path, mode);
            using var claim = new FileStream(Path.Combine(path, RuntimeDirectoryClaim), new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            claim.Write(Encoding.UTF8.GetBytes($"{id}\n{Guid.NewGuid():N}\n"));
        }
        catch (IOException) when (Path.Exists(Path.Combine(path, RuntimeDirectoryClaim)) || !Directory.Exists(path))
        {
            // Another caller claimed it first (or something not a directory appeared): theirs, left as it is.
            throw AlreadyExists(path, id, operation);
        }
    }

    /// <summary>
    /// True when <paramref name="directory"/> holds the same claim as <paramref name="runtimeDirectory"/> (made by
    /// <see cref="CreateRuntimeDirectory"/>): they are one directory, however each path is spelt (symbolic links,
    /// a tool's resolved path). False when either has no readable claim.
    /// </summary>
    public static bool HoldsClaimOf(string directory, string runtimeDirectory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(runtimeDirectory);
        try
        {
            var ours = File.ReadAllText(Path.Combine(runtimeDirectory, RuntimeDirectoryClaim));
            return ours.Length > 0 && ours == File.ReadAllText(Path.Combine(directory, RuntimeDirectoryClaim));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    private static HcsException AlreadyExists(string path, string id, string operation) =>
        new(HResults.HCS_E_SYSTEM_ALREADY_EXISTS, operation, id, result: ResultError.From(HResults.HCS_E_SYSTEM_ALREADY_EXISTS,
            $"the runtime directory '{path}' already exists: it belongs to another system (or to a service sharing this runtime root, or to an orphan the next cleaning removes); nothing was removed"));
    /// <summary>Where an installed hcs puts hcs-shim (the Debian package), the last place <see cref="LocateShim()"/> looks.</summary>
    public const string InstalledShimPath = "/usr/libexec/hcs/hcs-shim";

    /// <summary>
    /// The environment variable naming the hcs-shim to use. When it is set (and not empty) it is the only place
    /// <see cref="LocateShim()"/> looks: a wrong value is an error naming it, never a fall-back to another build.
    /// </summary>
    public const string ShimVariable = "HCS_SHIM";

    /// <summary>
    /// Finds hcs-shim (QEMU launcher, container monitor and init) for a backend whose settings name none: the file
    /// <c>$HCS_SHIM</c> names, when that is set; else <c>hcs-shim</c> beside the running program (where the Hcs.Host
    /// NuGet package and an install put it; not a managed <c>hcs-shim.dll</c> apphost), else the nearest
    /// <c>artifacts/shim/hcs-shim</c> above the program (a source tree), else <see cref="InstalledShimPath"/>. Each
    /// candidate must be an executable file. Never throws: a backend asks <see cref="ShimLocation.Require"/> when it
    /// needs the shim, and its error names every place looked in.
    /// </summary>
    public static ShimLocation LocateShim() =>
        LocateShim(Environment.GetEnvironmentVariable(ShimVariable), AppContext.BaseDirectory, InstalledShimPath);

    /// <summary><see cref="LocateShim()"/> with its inputs given: the variable's value, the program's directory and the installed path.</summary>
    public static ShimLocation LocateShim(string? variable, string programDirectory, string installedPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(programDirectory);
        ArgumentException.ThrowIfNullOrEmpty(installedPath);
        if (!string.IsNullOrEmpty(variable))
        {
            return Candidate(variable) is { } why
                ? new ShimLocation(null, [$"${ShimVariable}={variable} ({why})"])
                : new ShimLocation(variable, [$"${ShimVariable}={variable}"]);
        }

        var searched = new List<string> { $"${ShimVariable} (not set)" };
        var beside = Path.Combine(programDirectory, "hcs-shim");
        var besideProblem = File.Exists(beside + ".dll") ? "a managed apphost, not the NativeAOT build" : Candidate(beside);
        if (besideProblem is null)
        {
            return new ShimLocation(beside, [.. searched, beside]);
        }

        searched.Add($"{beside} ({besideProblem})");
        for (var dir = new DirectoryInfo(programDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "artifacts", "shim", "hcs-shim");
            if (Candidate(candidate) is null)
            {
                return new ShimLocation(candidate, [.. searched, candidate]);
            }
        }

        searched.Add($"artifacts/shim/hcs-shim in {programDirectory} and every directory above it (none)");
        return Candidate(installedPath) is { } installedProblem
            ? new ShimLocation(null, [.. searched, $"{installedPath} ({installedProblem})"])
            : new ShimLocation(installedPath, [.. searched, installedPath]);
    }

    /// <summary>A path a backend's settings name explicitly (<paramref name="setting"/>): the only place looked in.</summary>
    public static ShimLocation ConfiguredShim(string path, string setting)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Candidate(path) is { } why
            ? new ShimLocation(null, [$"{setting} = {path} ({why})"])
            : new ShimLocation(path, [$"{setting} = {path}"]);
    }

    /// <summary>Why <paramref name="path"/> cannot be hcs-shim (missing, not a file, not executable), or null when it can.</summary>
    private static string? Candidate(string path)
    {
        if (Directory.Exists(path))
        {
            return "a directory";
        }

        if (!File.Exists(path))
        {
            return "missing";
        }

        const UnixFileMode Execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        return OperatingSystem.IsWindows() || (File.GetUnixFileMode(path) & Execute) != 0 ? null : "not executable";
    }
}

/// <summary>
/// Where <see cref="LinuxHost.LocateShim()"/> found hcs-shim (<see cref="Path"/>), or that it did not, with the places it
/// looked in (<see cref="Searched"/>, in order, each with why it was passed over).
/// </summary>
/// <param name="Path">The hcs-shim to run, or null when none was found.</param>
/// <param name="Searched">The places looked in, in order.</param>
public sealed record ShimLocation(string? Path, IReadOnlyList<string> Searched)
{
    /// <summary>
    /// The shim's path; when none was found, <c>ERROR_FILE_NOT_FOUND</c> (from <paramref name="source"/>, for
    /// <paramref name="operation"/> on system <paramref name="id"/>) whose message names every place looked in.
    /// </summary>
    public string Require(string operation, string? id, string source) =>
        Path ?? throw new HcsException(HResults.ERROR_FILE_NOT_FOUND, operation, id,
            result: ResultError.From(HResults.ERROR_FILE_NOT_FOUND, Message, source));

    /// <summary>The words of the error <see cref="Require"/> raises.</summary>
    public string Message =>
        $"hcs-shim was not found; looked in: {string.Join("; ", Searched)}. Install hcs, run ./build.sh setup in a source tree, " +
        $"or set {LinuxHost.ShimVariable} to the path of hcs-shim";
}
