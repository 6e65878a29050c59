// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;

namespace Hcs.ComputeCore;

/// <summary>
/// No exception crosses the C boundary (on Linux one would end the process): every export catches everything and
/// returns the HRESULT it stands for.
/// </summary>
internal static class Guard
{
    /// <summary>The HRESULT a caught exception stands for.</summary>
    public static int HResultOf(Exception exception) => exception switch
    {
        HcsException hcs => hcs.HResult,
        OutOfMemoryException or InsufficientExecutionStackException => HResults.E_OUTOFMEMORY,
        ArgumentException => HResults.E_INVALIDARG,
        _ => HcsException.Wrap(exception, null).HResult,
    };
}
