// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Globalization;

namespace Hcs.Ctl;

/// <summary>
/// A progress line on stderr for long waits (start, shutdown, save, terminate): drawn only when stderr is a terminal,
/// so pipes, logs and tests never see it; erased when the wait ends.
/// </summary>
internal sealed class Spinner : IAsyncDisposable
{
    private static readonly string[] s_frames = ["|", "/", "-", "\\"];
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(100);
    private static readonly Spinner s_none = new(null, "", null);

    private readonly HcsCtlConsole? _console;
    private readonly string _label;
    private readonly CancellationTokenSource? _stop;
    private Task _loop = Task.CompletedTask;

    private Spinner(HcsCtlConsole? console, string label, CancellationTokenSource? stop)
    {
        _console = console;
        _label = label;
        _stop = stop;
    }

    public static Spinner Start(HcsCtlConsole console, string label)
    {
        if (console.Terminal?.ErrorIsTerminal != true)
        {
            return s_none;
        }

        var spinner = new Spinner(console, label, new CancellationTokenSource());
        spinner._loop = spinner.RunAsync();
        return spinner;
    }

    private async Task RunAsync()
    {
        var console = _console!;
        var started = console.Time.GetTimestamp();
        try
        {
            for (var frame = 0; ; frame++)
            {
                var elapsed = console.Time.GetElapsedTime(started).TotalSeconds;
                await console.Error.WriteAsync(string.Create(CultureInfo.InvariantCulture,
                    $"\r{s_frames[frame % s_frames.Length]} {_label}… {elapsed:0}s")).ConfigureAwait(false);
                await console.Error.FlushAsync().ConfigureAwait(false);
                await Task.Delay(s_interval, console.Time, _stop!.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            await console.Error.WriteAsync("\r\u001b[K").ConfigureAwait(false);
            await console.Error.FlushAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
