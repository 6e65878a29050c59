// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Qemu;

/// <summary>
/// Repeats a request to the guest that a guest still booting loses (the ACPI power button, <c>system_powerdown</c>; an
/// NMI, <c>inject-nmi</c>, which Linux may also swallow as a back-to-back NMI): 1, 3, 7 and 15 s after the request,
/// then every 8 s up to 55 s (<see cref="Delays"/>), until QEMU ends or the guest answers (<see cref="Stop"/>: it
/// powered off, reset or panicked). One repetition at a time: a new request replaces the previous one.
/// </summary>
internal sealed class RepeatedRequest
{
    /// <summary>Delays between repetitions, in seconds (the first counts from the request).</summary>
    internal static readonly IReadOnlyList<int> Delays = [1, 2, 4, 8, 8, 8, 8, 8, 8];

    private readonly QmpClient _qmp;
    private readonly TimeProvider _time;
    private readonly CancellationToken _ended;
    private CancellationTokenSource? _current; // the current repetition

    /// <summary>Repetitions over <paramref name="qmp"/>, timed by <paramref name="time"/>, that end with <paramref name="ended"/> (QEMU exited).</summary>
    public RepeatedRequest(QmpClient qmp, TimeProvider time, CancellationToken ended)
    {
        _qmp = qmp;
        _time = time;
        _ended = ended;
    }

    /// <summary>
    /// Repeats <paramref name="command"/> on the schedule (the caller has sent it once already), replacing the current
    /// repetition. Completes when the schedule is over, was stopped or replaced, QEMU ended or refused the command.
    /// </summary>
    public async Task RepeatAsync(string command)
    {
        using var repeat = CancellationTokenSource.CreateLinkedTokenSource(_ended);
        var previous = Interlocked.Exchange(ref _current, repeat);
        CancelQuietly(previous);
        try
        {
            foreach (var seconds in Delays)
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), _time, repeat.Token).ConfigureAwait(false);
                await _qmp.ExecuteAsync(command, cancellationToken: repeat.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or QmpDisconnectedException or QmpErrorException)
        {
            // QEMU ended, the guest answered, or QEMU refused the repeat: nothing left to press.
        }
        finally
        {
            Interlocked.CompareExchange(ref _current, null, repeat);
        }
    }

    /// <summary>The guest answered (it powered off, reset or panicked), or the system is let go: stop repeating.</summary>
    public void Stop() => CancelQuietly(Volatile.Read(ref _current));

    private static void CancelQuietly(CancellationTokenSource? source)
    {
        try
        {
            source?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // That repetition already ended.
        }
    }
}
