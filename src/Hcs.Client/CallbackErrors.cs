// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client;

/// <summary>
/// Where exceptions thrown by client callbacks go. A callback that throws must not take the dispatcher down (native
/// HCS would crash the process; a managed client gets a report instead).
/// </summary>
public static class CallbackErrors
{
    /// <summary>Raised when a client callback throws.</summary>
    public static event EventHandler<Exception>? Unhandled;

    internal static void Report(string where, Exception exception)
    {
        var handler = Unhandled;
        if (handler is null)
        {
            Console.Error.WriteLine($"hcs: {where} threw: {exception}");
            return;
        }

        handler(where, exception);
    }
}
