// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.TestKit;

/// <summary>
/// Starts reading an event stream on the caller's thread. An async method runs synchronously up to its first wait, and
/// an <c>await foreach</c> over a handle's events subscribes in its first <c>MoveNextAsync</c>, so the subscription is
/// live when <see cref="Now(Func{Task})"/> returns. <c>Task.Run</c> would race the events the test must see: on a
/// loaded machine the reader may subscribe after the system has raised them.
/// </summary>
public static class Subscribe
{
    /// <summary>Runs <paramref name="read"/> now, up to its first wait.</summary>
    public static Task Now(Func<Task> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return read();
    }

    /// <summary>Runs <paramref name="read"/> now, up to its first wait.</summary>
    public static Task<T> Now<T>(Func<Task<T>> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        return read();
    }
}
