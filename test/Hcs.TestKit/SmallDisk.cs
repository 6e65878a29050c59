// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;

namespace Hcs.TestKit;

/// <summary>
/// A real, small file system for a state directory: a tmpfs of <c>size</c> mounted on a fresh temporary directory
/// (root only: the constructor skips the test otherwise), that a test can fill to the last byte (<see cref="Fill"/>), free again, or remount read-only.
/// Disposing unmounts it and removes the directory. Used by the state, daemon and runc tests.
/// </summary>
public sealed class SmallDisk : IDisposable
{
    private const int ENOSPC = 28;
    private bool _mounted;

    public SmallDisk(string size = "4m")
    {
        Requires.Root();
        Root = Directory.CreateTempSubdirectory("hcs-small-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0755", "--", "tmpfs", Root);
        _mounted = true;
        StateDirectory = Path.Combine(Root, "state");
    }

    /// <summary>The mount point.</summary>
    public string Root { get; }

    /// <summary>A state directory on the small file system (not created: the store makes it).</summary>
    public string StateDirectory { get; }

    private string Filler => Path.Combine(Root, "filler");

    /// <summary>Writes a file until the file system has no byte left (<c>ENOSPC</c>).</summary>
    public void Fill()
    {
        var chunk = new byte[4096];
        using var file = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                file.Write(chunk);
            }
        }
        catch (IOException e) when (e.HResult == ENOSPC)
        {
            // Full. The partial write of the last chunk is in; so is every block the kernel could give.
        }

        if (new DriveInfo(Root).AvailableFreeSpace != 0)
        {
            throw new InvalidOperationException($"{Root} still has {new DriveInfo(Root).AvailableFreeSpace} bytes free after filling it");
        }
    }

    /// <summary>Frees what <see cref="Fill"/> took.</summary>
    public void Free() => File.Delete(Filler);

    /// <summary>Remounts the file system read-only (<c>EROFS</c> for every write).</summary>
    public void MakeReadOnly() => Run("mount", "-o", "remount,ro", "--", Root);

    public void Dispose()
    {
        if (_mounted)
        {
            _mounted = false;
            Run("umount", "-l", "--", Root);
        }

        Directory.Delete(Root, recursive: true);
    }

    private static void Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {errors}");
        }
    }
}
