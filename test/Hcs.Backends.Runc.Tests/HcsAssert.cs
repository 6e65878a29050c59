// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

internal static class HcsAssert
{
    /// <summary>Asserts that <paramref name="action"/> fails with <c>HCS_E_INVALID_JSON</c> naming exactly <paramref name="path"/>; returns the reason.</summary>
    public static string InvalidJsonAt(string path, Action action)
    {
        var e = Assert.Throws<HcsException>(action);
        Assert.Equal(HResults.HCS_E_INVALID_JSON, e.HResult);
        return ReasonAt(path, e);
    }

    /// <summary>The reason of <paramref name="e"/>, asserting that its detail starts with <c>path: </c>.</summary>
    public static string ReasonAt(string path, HcsException e)
    {
        var detail = Assert.Single(e.Result.ErrorEvents!).Message!;
        Assert.StartsWith(path + ": ", detail, StringComparison.Ordinal);
        return detail[(path.Length + 2)..];
    }
}
