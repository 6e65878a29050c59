// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using System.Runtime.InteropServices;

namespace Hcs.State;

/// <summary>
/// Which SQLite the store runs on: the system's shared library, <c>libsqlite3.so.0</c> (Debian's <c>libsqlite3-0</c>),
/// through SQLitePCLRaw's <c>sqlite3</c> provider; no copy of SQLite is shipped beside the binaries. A JIT process
/// resolves the provider's library name <c>sqlite3</c> to that soname here (the runtime's own probing would look for
/// <c>libsqlite3.so</c>, which only the -dev package installs); the NativeAOT executables bind to it at link time and
/// never ask (NativeSqlite.targets).
/// </summary>
internal static class SqliteLibrary
{
    /// <summary>The soname the store loads.</summary>
    public const string SharedObject = "libsqlite3.so.0";

    private static readonly Lazy<bool> s_initialized = new(Initialize);

    /// <summary>Makes the system library Microsoft.Data.Sqlite's provider; once per process, before the first connection.</summary>
    public static void EnsureInitialized() => _ = s_initialized.Value;

    private static bool Initialize()
    {
        var provider = typeof(SQLitePCL.SQLite3Provider_sqlite3).Assembly;
        try
        {
            NativeLibrary.SetDllImportResolver(provider, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The application resolves the provider's library itself.
        }

        SQLitePCL.raw.SetProvider(new SQLitePCL.SQLite3Provider_sqlite3());
        return true;
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath) =>
        name == "sqlite3" && NativeLibrary.TryLoad(SharedObject, out var handle) ? handle : 0;
}
