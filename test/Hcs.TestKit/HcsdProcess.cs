// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Text;

namespace Hcs.TestKit;

/// <summary>
/// A real <c>hcsd</c> process (the shipped NativeAOT build, <see cref="NativeBinaries.Hcsd"/>) in its own socket, state
/// and runtime directories, with the fake backend unless <c>--backends</c> is passed again.
/// </summary>
public sealed class HcsdProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly bool _ownsDirectory;

    private HcsdProcess(string directory, Process process, bool ownsDirectory)
    {
        Directory = directory;
        Process = process;
        _ownsDirectory = ownsDirectory;
    }

    public string Directory { get; }

    public string Socket => Path.Combine(Directory, "hcsd.sock");

    public string StateDirectory => Path.Combine(Directory, "state");

    public Process Process { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The hcsd executable run (<see cref="NativeBinaries.Hcsd"/>: skips or fails the test when it is missing).</summary>
    public static string Binary => NativeBinaries.Hcsd;

    /// <summary>A fresh directory others may traverse (as /run/hcs), so the socket's own mode decides who connects.</summary>
    public static string SearchableTempDirectory()
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("hcsd-").FullName;
        File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
            UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        return directory;
    }

    /// <summary>
    /// Starts hcsd and waits until it says it is ready. A <paramref name="directory"/> given by the caller outlives this
    /// daemon (a later one restarts on its state); one made here is removed with it.
    /// </summary>
    public static Task<HcsdProcess> StartAsync(string? directory = null, params string[] extra) => StartCoreAsync(directory, null, extra);

    /// <summary>
    /// Starts hcsd with the process umask <paramref name="umask"/> (octal, e.g. <c>000</c>) when given: through
    /// <c>sh -c 'umask "$1"; shift; exec "$@"'</c>, every value passed as an argument, never spliced into the script.
    /// </summary>
    public static Task<HcsdProcess> StartUnderUmaskAsync(string umask, string? directory = null) => StartCoreAsync(directory, umask, []);

    private static async Task<HcsdProcess> StartCoreAsync(string? directory, string? umask, string[] extra)
    {
        var binary = Binary;
        var owns = directory is null;
        directory ??= SearchableTempDirectory();
        var start = new ProcessStartInfo(umask is null ? binary : "/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (umask is not null)
        {
            foreach (var arg in (string[])["-c", "umask \"$1\" && shift && exec \"$@\"", "sh", umask, binary])
            {
                start.ArgumentList.Add(arg);
            }
        }

        // --config /dev/null: never the host's /etc/hcs/hcsd.conf (the package's sets socket-group = hcs).
        foreach (var arg in (string[])["--config", "/dev/null", "--socket", Path.Combine(directory, "hcsd.sock"), "--state-dir", Path.Combine(directory, "state"),
            "--runtime-root", Path.Combine(directory, "run"), "--backends", "fake", .. extra])
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var hcsd = new HcsdProcess(directory, process, owns);
        process.OutputDataReceived += (_, e) => hcsd.Append(e.Data);
        process.ErrorDataReceived += (_, e) => hcsd.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(hcsd._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (first != hcsd._ready.Task)
        {
            await hcsd.DisposeAsync();
            throw new InvalidOperationException($"hcsd did not become ready:\n{hcsd.Log}");
        }

        return hcsd;
    }

    /// <summary>Starts hcsd expecting it to fail; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] args)
    {
        var (code, output, error) = await RunToExitSeparatelyAsync(args);
        return (code, output + error);
    }

    /// <summary>Starts hcsd expecting it to fail; returns its exit code, standard output and standard error apart.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunToExitSeparatelyAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    public void Kill() => Process.Kill();

    /// <summary>SIGTERM, then the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        Signal(15);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Process.WaitForExitAsync(timeout.Token);
        return Process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
        if (!_ownsDirectory)
        {
            return;
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A runtime directory still busy: the temp cleaner has it.
        }
    }

    private void Signal(int signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        kill.WaitForExit();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (line.Contains("hcsd ready on", StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }
}
