// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Hcs.Backends.Qemu;
using Hcs.Schema;

namespace Hcs.Bench;

/// <summary>
/// QEMU "by hand": the argv <see cref="QemuCommandLine.Build"/> makes for a document, spawned directly (no engine, no
/// backend), its QMP socket waited for with a 1 ms poll (missing or refusing until QEMU listens), and a bare line-by-line QMP client — what a careful script
/// would do. Nothing of hcs runs on this path except the function that builds the argv.
/// </summary>
internal sealed class RawQemu : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Socket _socket;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private RawQemu(string runDirectory, Process process, Socket socket)
    {
        RunDirectory = runDirectory;
        _process = process;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public string RunDirectory { get; }

    /// <summary>Spawns QEMU for <paramref name="document"/> in a fresh <paramref name="runDirectory"/> and completes once QMP is negotiated.</summary>
    public static async Task<RawQemu> StartAsync(string id, ComputeSystem document, string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            WorkingDirectory = runDirectory, // QemuCommandLine names the sockets relative to the runtime directory
        };
        foreach (var arg in QemuCommandLine.Build(id, document.VirtualMachine!, new QemuSettings(), runDirectory))
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var qmp = Path.Combine(runDirectory, QemuCommandLine.QmpSocket);
        Socket socket;
        while (true)
        {
            if (File.Exists(qmp))
            {
                socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(qmp));
                    break;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
                {
                    socket.Dispose(); // bound, not yet listening
                }
            }

            if (process.HasExited)
            {
                throw new InvalidOperationException($"qemu exited with {process.ExitCode}");
            }

            await Task.Delay(1);
        }

        var raw = new RawQemu(runDirectory, process, socket);
        _ = await raw.ReadLineAsync(); // greeting
        await raw.ExecuteAsync("qmp_capabilities");
        return raw;
    }

    /// <summary>Sends a command and reads up to its reply; events read meanwhile go to <paramref name="onEvent"/>.</summary>
    public async Task ExecuteAsync(string command, Action<JsonElement>? onEvent = null)
    {
        await _stream.WriteAsync(Encoding.UTF8.GetBytes($"{{\"execute\":\"{command}\"}}\n"));
        while (true)
        {
            var line = await ReadLineAsync() ?? throw new IOException($"QMP closed before the reply to {command}");
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("event", out _))
            {
                onEvent?.Invoke(json.RootElement.Clone());
                continue;
            }

            return;
        }
    }

    /// <summary>Reads the next event (null at EOF).</summary>
    public async Task<JsonElement?> ReadEventAsync()
    {
        while (await ReadLineAsync() is { } line)
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.TryGetProperty("event", out _))
            {
                return json.RootElement.Clone();
            }
        }

        return null;
    }

    /// <summary>QEMU's event timestamp (wall clock, microseconds).</summary>
    public static DateTimeOffset Timestamp(JsonElement e)
    {
        var ts = e.GetProperty("timestamp");
        return DateTimeOffset.FromUnixTimeSeconds(ts.GetProperty("seconds").GetInt64()).AddTicks(ts.GetProperty("microseconds").GetInt64() * 10);
    }

    private Task<string?> ReadLineAsync() => _reader.ReadLineAsync();

    /// <summary>Sends <c>quit</c> (ignoring the connection dropping) and reaps QEMU.</summary>
    public async Task QuitAsync()
    {
        try
        {
            await ExecuteAsync("quit");
        }
        catch (IOException)
        {
            // QEMU may reset the connection before its reply (platform.md §3d).
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync();
        _reader.Dispose();
        await _stream.DisposeAsync();
        _socket.Dispose();
        _process.Dispose();
        Directory.Delete(RunDirectory, recursive: true);
    }
}
