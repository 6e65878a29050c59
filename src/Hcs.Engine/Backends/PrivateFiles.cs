// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text;

namespace Hcs.Engine.Backends;

/// <summary>
/// How the Linux backends create what they write for a system (runtime directories, bundles, logs, saved states):
/// readable by the owner only, with the mode given at creation (never created wider and narrowed later, so there is
/// no window in which another user can open it). Directories are 0700, files 0600; the umask can only narrow these.
/// </summary>
public static class PrivateFiles
{
    /// <summary>Mode of a private directory (0700).</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Mode of a private file (0600).</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> as a 0700 directory (missing parents are made as usual); an existing directory is
    /// narrowed to 0700.
    /// </summary>
    /// <param name="path">The directory.</param>
    public static void CreateDirectory(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        if (Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)) is { Length: > 0 } parent)
        {
            Directory.CreateDirectory(parent);
        }

        var existed = Directory.Exists(path);
        Directory.CreateDirectory(path, DirectoryMode);
        if (existed)
        {
            File.SetUnixFileMode(path, DirectoryMode);
        }
    }

    /// <summary>Opens <paramref name="path"/> for writing, creating it 0600 if missing (an existing file is truncated and narrowed to 0600).</summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">How to open it (<see cref="System.IO.FileMode.Create"/>, <see cref="System.IO.FileMode.CreateNew"/>, <see cref="System.IO.FileMode.Append"/>, …).</param>
    /// <param name="access">The access wanted.</param>
    /// <param name="options">Extra options (e.g. <see cref="FileOptions.Asynchronous"/>).</param>
    /// <param name="bufferSize">The stream's buffer size.</param>
    /// <param name="share">What others may do meanwhile (on Linux, <see cref="FileShare.None"/> takes an exclusive <c>flock</c>, which makes readers fail).</param>
    public static FileStream Open(string path, System.IO.FileMode mode = System.IO.FileMode.Create, FileAccess access = FileAccess.Write,
        FileOptions options = FileOptions.None, int bufferSize = 4096, FileShare share = FileShare.None)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }

        var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = mode,
            Access = access,
            Share = share,
            Options = options,
            BufferSize = bufferSize,
            UnixCreateMode = FileMode,
        });
        try
        {
            if ((File.GetUnixFileMode(stream.SafeFileHandle) & ~FileMode) != 0)
            {
                File.SetUnixFileMode(stream.SafeFileHandle, FileMode);
            }
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return stream;
    }

    /// <summary>Creates an empty 0600 file at <paramref name="path"/> (an existing one is emptied and narrowed), for a child process to append to.</summary>
    /// <param name="path">The file.</param>
    public static void CreateEmpty(string path)
    {
        using var _ = Open(path);
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) to <paramref name="path"/>, a 0600 file, replacing its content.</summary>
    /// <param name="path">The file.</param>
    /// <param name="text">The content.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    public static async Task WriteAllTextAsync(string path, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var stream = Open(path, options: FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(new UTF8Encoding(false).GetBytes(text), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Copies <paramref name="source"/> to a new 0600 file <paramref name="destination"/> (unlike <see cref="File.Copy(string, string)"/>, which keeps the source's mode).</summary>
    /// <param name="source">The file to copy.</param>
    /// <param name="destination">The new file.</param>
    public static void Copy(string source, string destination)
    {
        using var from = File.OpenRead(source);
        using var to = Open(destination, System.IO.FileMode.CreateNew);
        from.CopyTo(to);
    }
}
