// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Shim;

/// <summary>Entry point: <c>hcs-shim monitor …</c> or <c>hcs-shim init</c> (docs/shim-protocol.md).</summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        Console.Error.WriteLine("hcs-shim: not implemented yet: " + string.Join(' ', args));
        return 2;
    }
}
