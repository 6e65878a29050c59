// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Engine.Backends;
using Hcs.Schema;
using Xunit;

namespace Hcs.Engine.Tests;

/// <summary>
/// <see cref="LinuxHost.LocateShim(string?, string, string)"/>: where the QEMU and runc backends find hcs-shim when
/// their settings name none ($HCS_SHIM, beside the program, artifacts/shim above it, the installed path), and the error
/// naming every place looked in when there is none.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ShimLookupTests : IDisposable
{
    private const UnixFileMode Executable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("hcs-shim-lookup-");

    public void Dispose() => _root.Delete(recursive: true);

    private string Program => Directory.CreateDirectory(Path.Combine(_root.FullName, "app", "bin")).FullName;

    private string Installed => Path.Combine(_root.FullName, "libexec", "hcs-shim");

    private static string Make(string path, UnixFileMode mode = Executable)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, mode);
        return path;
    }

    [Fact]
    public void BesideTheProgram_ComesBeforeASourceTreeAndTheInstalledOne()
    {
        var beside = Make(Path.Combine(Program, "hcs-shim"));
        Make(Path.Combine(_root.FullName, "artifacts", "shim", "hcs-shim"));
        Make(Installed);

        Assert.Equal(beside, LinuxHost.LocateShim(null, Program, Installed).Path);
    }

    [Fact]
    public void TheVariable_WhenSet_IsTheOnlyPlaceLookedIn()
    {
        Make(Path.Combine(Program, "hcs-shim"));
        var chosen = Make(Path.Combine(_root.FullName, "elsewhere", "hcs-shim"));

        Assert.Equal(chosen, LinuxHost.LocateShim(chosen, Program, Installed).Path);

        var missing = Path.Combine(_root.FullName, "typo", "hcs-shim");
        var location = LinuxHost.LocateShim(missing, Program, Installed);
        Assert.Null(location.Path);
        Assert.Equal([$"$HCS_SHIM={missing} (missing)"], location.Searched);
    }

    [Fact]
    public void AManagedApphostOrANonExecutableFileBesideTheProgram_IsPassedOver_ForTheNearestSourceTree()
    {
        Make(Path.Combine(Program, "hcs-shim"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var tree = Make(Path.Combine(_root.FullName, "artifacts", "shim", "hcs-shim"));

        var location = LinuxHost.LocateShim(null, Program, Installed);

        Assert.Equal(tree, location.Path);
        Assert.Contains($"{Path.Combine(Program, "hcs-shim")} (not executable)", location.Searched);

        File.SetUnixFileMode(Path.Combine(Program, "hcs-shim"), Executable);
        File.WriteAllText(Path.Combine(Program, "hcs-shim.dll"), "");
        Assert.Equal(tree, LinuxHost.LocateShim(null, Program, Installed).Path);
    }

    [Fact]
    public void TheInstalledPath_IsTheLastResort()
    {
        Assert.Equal(Make(Installed), LinuxHost.LocateShim(null, Program, Installed).Path);
    }

    [Fact]
    public void NoShimAnywhere_RequireFailsWithFileNotFound_NamingEveryPlaceLookedIn()
    {
        var location = LinuxHost.LocateShim(null, Program, Installed);

        var e = Assert.Throws<HcsException>(() => location.Require("RuncBackend.Create", "c1", "runc"));

        Assert.Null(location.Path);
        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, e.HResult);
        Assert.Contains("hcs-shim was not found; looked in: $HCS_SHIM (not set)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{Path.Combine(Program, "hcs-shim")} (missing)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"artifacts/shim/hcs-shim in {Program} and every directory above it (none)", e.Message, StringComparison.Ordinal);
        Assert.Contains($"{Installed} (missing)", e.Message, StringComparison.Ordinal);
        Assert.Contains("set HCS_SHIM to the path of hcs-shim", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AConfiguredPath_IsTheOnlyPlaceLookedIn_AndItsErrorNamesTheSetting()
    {
        Make(Path.Combine(Program, "hcs-shim"));
        var missing = Path.Combine(_root.FullName, "configured", "hcs-shim");

        var e = Assert.Throws<HcsException>(() => LinuxHost.ConfiguredShim(missing, "QemuSettings.LauncherPath").Require("QemuBackend.Create", "vm", "qemu"));

        Assert.Equal(HResults.ERROR_FILE_NOT_FOUND, e.HResult);
        Assert.Contains($"looked in: QemuSettings.LauncherPath = {missing} (missing)", e.Message, StringComparison.Ordinal);
    }
}
