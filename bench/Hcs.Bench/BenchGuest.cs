// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Hcs.Schema;

namespace Hcs.Bench;

/// <summary>The test guest (artifacts/guest, built by build.sh) and the VM documents the benchmarks run.</summary>
internal static class BenchGuest
{
    public static string Directory => Hcs.TestKit.GuestImage.Directory;

    /// <summary>A kernel-direct VM (256 MB, 1 vCPU) whose /init obeys <paramref name="verb"/>.</summary>
    public static ComputeSystem Document(string verb, Devices? devices = null) => Hcs.TestKit.GuestImage.Document(verb, devices, owner: "hcs-bench");
}

/// <summary>
/// Reads a VM's serial console socket (the runtime directory's console.sock) and notes, in the benchmark's
/// stopwatch time, when the guest's /init reported in and what the guest's own uptime was then.
/// </summary>
internal sealed class ConsoleTap : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stopwatch _clock;
    private readonly Task _reader;
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ConsoleTap(Socket socket, Stopwatch clock)
    {
        _socket = socket;
        _clock = clock;
        _reader = Task.Run(ReadAsync);
    }

    /// <summary>Stopwatch time at which "hcs-guest: init reached" arrived, if it did.</summary>
    public TimeSpan? InitReachedAt { get; private set; }

    /// <summary>The guest's /proc/uptime when /init started (seconds, the guest clock).</summary>
    public double? GuestUptimeAtInit { get; private set; }

    /// <summary>Completes when the guest prints "hcs-guest: idle".</summary>
    public Task Idle => _idle.Task;

    public static async Task<ConsoleTap> ConnectAsync(string path, Stopwatch clock)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new ConsoleTap(socket, clock);
    }

    private async Task ReadAsync()
    {
        const string Marker = "hcs-guest: init reached, uptime ";
        try
        {
            using var reader = new StreamReader(new NetworkStream(_socket, ownsSocket: false), Encoding.UTF8);
            while (await reader.ReadLineAsync() is { } line)
            {
                var at = line.IndexOf(Marker, StringComparison.Ordinal);
                if (at >= 0)
                {
                    InitReachedAt = _clock.Elapsed;
                    if (double.TryParse(line[(at + Marker.Length)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var uptime))
                    {
                        GuestUptimeAtInit = uptime;
                    }
                }
                else if (line.Contains("hcs-guest: idle", StringComparison.Ordinal))
                {
                    _idle.TrySetResult();
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The VM went away.
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
