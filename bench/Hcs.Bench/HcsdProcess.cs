// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Hcs.Bench;

/// <summary>
/// A real <c>hcsd</c> process for the daemon benchmarks: the <c>hcsd.dll</c> built next to the bench, run by the
/// <c>dotnet</c> host (<see cref="HcsdBuild.Jit"/>), or the NativeAOT executable (<see cref="HcsdBuild.Native"/>), with
/// the fake backend and a socket, state and runtime directory in a fresh temporary directory (removed with it).
/// Stopped with SIGTERM (killed if it does not exit within 10 s). Never a shell.
/// </summary>
internal sealed class HcsdProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly List<string> _output = []; // locked: hcsd's stdout and stderr lines, shown if it fails

    private HcsdProcess(Process process, string directory, string socket)
    {
        _process = process;
        _directory = directory;
        Socket = socket;
    }

    public string Socket { get; }

    public int Pid => _process.Id;

    /// <summary>From just before the exec to the first accepted connection on the socket (polled every 1 ms).</summary>
    public TimeSpan StartTime { get; private set; }

    /// <summary>
    /// Starts hcsd (<c>--log-level warning</c>) and waits until its socket accepts a connection. The JIT build runs
    /// with <c>DOTNET_TieredCompilation=0</c> unless <paramref name="tiered"/> (hcsd as shipped: tiered, the default).
    /// </summary>
    public static async Task<HcsdProcess> StartAsync(string logLevel = "warning", HcsdBuild? build = null, bool tiered = false)
    {
        build ??= HcsdBuild.Jit;
        var directory = Directory.CreateTempSubdirectory("hcsd-bench-").FullName;
        var socket = Path.Combine(directory, "hcsd.sock");
        var info = new ProcessStartInfo(build.NativeHcsd ?? DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        if (build.NativeHcsd is null)
        {
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "hcsd.dll"));
            if (!tiered)
            {
                // Optimised at first use, like the bench itself: a long-running daemon reaches that steady state, while a
                // tiered hcsd measured after a short warm-up still runs part of its code unoptimised (2–3× the CPU per call).
                info.Environment["DOTNET_TieredCompilation"] = "0";
            }
        }

        foreach (var argument in new[]
                 {
                     "--socket", socket, "--backends", "fake", "--state-dir", Path.Combine(directory, "state"),
                     "--runtime-root", Path.Combine(directory, "run"), "--log-level", logLevel,
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start hcsd");
        var hcsd = new HcsdProcess(process, directory, socket);
        process.OutputDataReceived += (_, e) => hcsd.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => hcsd.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        while (!CanConnect(socket))
        {
            if (process.HasExited || clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                var output = hcsd.Output();
                await hcsd.DisposeAsync();
                throw new InvalidOperationException($"hcsd did not come up on {socket}:\n{output}");
            }

            await Task.Delay(1);
        }

        hcsd.StartTime = clock.Elapsed;
        return hcsd;
    }

    /// <summary>hcsd's RssAnon and RssFile (MB): what it wrote, and the pages of files (its binary, libraries) it maps.</summary>
    public (double Anon, double File) RssParts() =>
        (ReadRssMegabytes($"/proc/{Pid}/status", "RssAnon:"), ReadRssMegabytes($"/proc/{Pid}/status", "RssFile:"));

    /// <summary>hcsd's resident set (VmRSS) in MB.</summary>
    public double RssMegabytes() => ReadRssMegabytes($"/proc/{Pid}/status");

    /// <summary>hcsd's peak resident memory so far (VmHWM), in MB.</summary>
    public double PeakRssMegabytes() => ReadRssMegabytes($"/proc/{Pid}/status", "VmHWM:");

    /// <summary>The Unix sockets hcsd holds open (its listener plus one per client connection).</summary>
    public int SocketCount()
    {
        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{Pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:", StringComparison.Ordinal))
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // The fd closed while we looked.
            }
        }

        return count;
    }

    /// <summary>hcsd's CPU time so far (user + system).</summary>
    public TimeSpan CpuTime() => ReadCpuTime($"/proc/{Pid}/stat");

    /// <summary>User + system CPU time from a <c>/proc/PID/stat</c> file (clock ticks of 10 ms).</summary>
    public static TimeSpan ReadCpuTime(string stat)
    {
        var text = File.ReadAllText(stat);
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is the state (field 3 of proc(5)); utime and stime are fields 14 and 15.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    /// <summary>VmRSS in MB from a <c>/proc/PID/status</c> file.</summary>
    public static double ReadRssMegabytes(string status, string field = "VmRSS:")
    {
        foreach (var line in File.ReadLines(status))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                var kb = line[field.Length..].Trim().Split(' ')[0];
                return double.Parse(kb, CultureInfo.InvariantCulture) / 1024;
            }
        }

        return double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM, hcsd's graceful stop, sent by the kill(1) program rather than a P/Invoke in the bench.
            using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", Pid.ToString(CultureInfo.InvariantCulture) } }))
            {
                if (kill is not null)
                {
                    await kill.WaitForExitAsync();
                }
            }

            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static bool CanConnect(string socket)
    {
        if (!File.Exists(socket))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socket));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The dotnet host running this bench (<c>DOTNET_HOST_PATH</c> under dotnet run), else dotnet on PATH.</summary>
    internal static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath!
        : "dotnet";

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Count < 200)
            {
                _output.Add(line);
            }
        }
    }

    private string Output()
    {
        lock (_output)
        {
            return string.Join('\n', _output);
        }
    }
}

/// <summary>Which hcsd and hcsctl a benchmark runs: the JIT build (dll under the dotnet host) or NativeAOT executables.</summary>
internal sealed record HcsdBuild(string Name, string? NativeHcsd, string? NativeHcsctl)
{
    /// <summary><c>hcsd.dll</c> and <c>hcsctl.dll</c> built next to the bench, run by the dotnet host.</summary>
    public static HcsdBuild Jit { get; } = new("JIT", null, null);

    /// <summary><c>hcsd</c> and <c>hcsctl</c> published NativeAOT into <paramref name="directory"/> (build.sh: artifacts/bin).</summary>
    public static HcsdBuild Native(string directory) => new("native", Path.Combine(directory, "hcsd"), Path.Combine(directory, "hcsctl"));
}
