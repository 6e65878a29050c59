// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Text.Json.Nodes;
using Hcs.Schema;
using Xunit;

namespace Hcs.Backends.Runc.Tests;

public sealed class ProcessSpecTests : IDisposable
{
    private readonly DirectoryInfo _rootfs = Directory.CreateTempSubdirectory("hcs-runc-rootfs-");

    public ProcessSpecTests()
    {
        Directory.CreateDirectory(Path.Combine(_rootfs.FullName, "etc"));
        File.WriteAllText(Path.Combine(_rootfs.FullName, "etc", "passwd"), BusyboxLayer.Passwd + "# comment\nweb:x:33:34::/var/www:/bin/sh\n");
        File.WriteAllText(Path.Combine(_rootfs.FullName, "etc", "group"), BusyboxLayer.Group + "www:x:34:\nstaff:x:50:web\n");
    }

    public void Dispose() => _rootfs.Delete(recursive: true);

    private JsonNode Build(ProcessParameters parameters) => JsonNode.Parse(ProcessSpec.Build(parameters, _rootfs.FullName))!;

    private static string[] Strings(JsonNode? node) => [.. node!.AsArray().Select(n => n!.GetValue<string>())];

    [Theory]
    [InlineData("sh -c 'yes | head -c 10; exit 3'", new[] { "sh", "-c", "yes | head -c 10; exit 3" })]
    [InlineData("  echo   a\tb\nc  ", new[] { "echo", "a", "b", "c" })]
    [InlineData("echo \"a b\" 'c d' e\\ f", new[] { "echo", "a b", "c d", "e f" })]
    [InlineData("echo \"x\\\"y\\\\z\\$w\\n\"", new[] { "echo", "x\"y\\z$w\\n" })]
    [InlineData("echo 'a\\b' \"'\" '\"'", new[] { "echo", "a\\b", "'", "\"" })]
    [InlineData("echo '' \"\" x''y", new[] { "echo", "", "", "xy" })]
    [InlineData("echo $HOME *.txt ~ `id`", new[] { "echo", "$HOME", "*.txt", "~", "`id`" })]
    [InlineData("a\\\nb", new[] { "ab" })]
    public void CommandLine_IsSplitLikeAShellWithoutExpansion(string commandLine, string[] expected) =>
        Assert.Equal(expected, ProcessSpec.SplitCommandLine(commandLine));

    [Theory]
    [InlineData("sh -c 'unclosed")]
    [InlineData("echo \"unclosed")]
    [InlineData("echo trailing\\")]
    [InlineData("   ")]
    [InlineData("'' x")]
    public void BadCommandLine_IsRefusedAtCommandLine(string commandLine) =>
        HcsAssert.InvalidJsonAt("$.CommandLine", () => ProcessSpec.Build(new ProcessParameters { CommandLine = commandLine }, _rootfs.FullName));

    [Fact]
    public void NoCommand_IsRefusedAtCommandLine() =>
        HcsAssert.InvalidJsonAt("$.CommandLine", () => ProcessSpec.Build(new ProcessParameters { CommandArgs = [] }, _rootfs.FullName));

    [Fact]
    public void CommandArgs_WinOverCommandLine()
    {
        var spec = Build(new ProcessParameters { CommandLine = "ignored", CommandArgs = ["/bin/echo", "a b", "$X"] });

        Assert.Equal(["/bin/echo", "a b", "$X"], Strings(spec["args"]));
    }

    [Fact]
    public void Defaults_AreRootInTheRootDirectoryWithThePathAndNoTerminal()
    {
        var spec = Build(new ProcessParameters { CommandLine = "true" });

        Assert.False(spec["terminal"]!.GetValue<bool>());
        Assert.Null(spec["consoleSize"]);
        Assert.Equal(0u, spec["user"]!["uid"]!.GetValue<uint>());
        Assert.Equal(0u, spec["user"]!["gid"]!.GetValue<uint>());
        Assert.Equal("/", spec["cwd"]!.GetValue<string>());
        Assert.Equal([OciSpec.DefaultPath], Strings(spec["env"]));
        Assert.Equal(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"], Strings(spec["capabilities"]!["effective"]));
        Assert.True(spec["noNewPrivileges"]!.GetValue<bool>());
    }

    [Fact]
    public void EnvironmentWorkingDirectoryAndConsole_AreMapped()
    {
        var spec = Build(new ProcessParameters
        {
            CommandLine = "sh",
            Environment = new Dictionary<string, string> { ["A"] = "1", ["EMPTY"] = "", ["B"] = "x=y" },
            WorkingDirectory = "/tmp",
            EmulateConsole = true,
            ConsoleSize = [40, 120],
        });

        Assert.Equal([OciSpec.DefaultPath, "A=1", "EMPTY=", "B=x=y"], Strings(spec["env"]));
        Assert.Equal("/tmp", spec["cwd"]!.GetValue<string>());
        Assert.True(spec["terminal"]!.GetValue<bool>());
        Assert.Equal(40u, spec["consoleSize"]!["height"]!.GetValue<uint>());
        Assert.Equal(120u, spec["consoleSize"]!["width"]!.GetValue<uint>());
    }

    [Fact]
    public void AnEnvironmentPath_ReplacesTheDefault() =>
        Assert.Equal(["PATH=/bin"], Strings(Build(new ProcessParameters { CommandLine = "sh", Environment = new Dictionary<string, string> { ["PATH"] = "/bin" } })["env"]));

    [Theory]
    [InlineData(null, 0u, 0u)]
    [InlineData("", 0u, 0u)]
    [InlineData("1000", 1000u, 1000u)]
    [InlineData("4242", 4242u, 0u)] // not in passwd: group 0
    [InlineData("1000:50", 1000u, 50u)]
    [InlineData("tester", 1000u, 1000u)]
    [InlineData("web", 33u, 34u)]
    [InlineData("web:staff", 33u, 50u)]
    [InlineData("nobody:nogroup", 65534u, 65534u)]
    [InlineData("0:www", 0u, 34u)]
    public void User_IsResolvedFromTheContainersDatabases(string? user, uint uid, uint gid)
    {
        var spec = Build(new ProcessParameters { CommandLine = "id", User = user });

        Assert.Equal(uid, spec["user"]!["uid"]!.GetValue<uint>());
        Assert.Equal(gid, spec["user"]!["gid"]!.GetValue<uint>());
    }

    [Theory]
    [InlineData("nosuchuser", "nosuchuser")]
    [InlineData("tester:nosuchgroup", "nosuchgroup")]
    [InlineData("comment", "comment")]
    [InlineData(":1", "':1'")]
    [InlineData("1:", "'1:'")]
    public void UnknownUser_IsRefusedAtUserNamingIt(string user, string named)
    {
        var reason = HcsAssert.InvalidJsonAt("$.User", () => Build(new ProcessParameters { CommandLine = "id", User = user }));

        Assert.Contains(named, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void UserNames_AreNotReadThroughASymbolicLinkedPasswd()
    {
        var passwd = Path.Combine(_rootfs.FullName, "etc", "passwd");
        var real = Path.Combine(_rootfs.FullName, "passwd.real");
        File.Move(passwd, real);
        File.CreateSymbolicLink(passwd, real);

        HcsAssert.InvalidJsonAt("$.User", () => Build(new ProcessParameters { CommandLine = "id", User = "tester" }));
    }

    public static TheoryData<ProcessParameters, string> Refused => new()
    {
        { new ProcessParameters { CommandLine = "x", ApplicationName = "/bin/sh" }, "$.ApplicationName" },
        { new ProcessParameters { CommandLine = "x", RestrictedToken = true }, "$.RestrictedToken" },
        { new ProcessParameters { CommandLine = "x", UseExistingLogin = true }, "$.UseExistingLogin" },
        { new ProcessParameters { CommandLine = "x", UseLegacyConsole = true }, "$.UseLegacyConsole" },
        { new ProcessParameters { CommandLine = "x", ConsoleSize = [40] }, "$.ConsoleSize" },
        { new ProcessParameters { CommandLine = "x", ConsoleSize = [40, 80, 1] }, "$.ConsoleSize" },
        { new ProcessParameters { CommandLine = "x", WorkingDirectory = "tmp" }, "$.WorkingDirectory" },
        { new ProcessParameters { CommandLine = "x", WorkingDirectory = "/tmp/../.." }, "$.WorkingDirectory" },
        { new ProcessParameters { CommandLine = "x", Environment = new Dictionary<string, string> { ["A=B"] = "1" } }, "$.Environment.A=B" },
        { new ProcessParameters { CommandLine = "x", Environment = new Dictionary<string, string> { [""] = "1" } }, "$.Environment." },
        { new ProcessParameters { CommandLine = "x", Environment = new Dictionary<string, string> { ["A\0"] = "1" } }, "$.Environment.A\0" },
        { new ProcessParameters { CommandLine = "x", Environment = new Dictionary<string, string> { ["A"] = "1\0" } }, "$.Environment.A" },
        { new ProcessParameters { CommandArgs = ["sh", "a\0b"] }, "$.CommandArgs[1]" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void UnsupportedMember_IsRefusedByName(ProcessParameters parameters, string path) =>
        HcsAssert.InvalidJsonAt(path, () => ProcessSpec.Build(parameters, _rootfs.FullName));

    [Fact]
    public void FalseFlags_AreAccepted() =>
        Assert.NotNull(Build(new ProcessParameters { CommandLine = "x", RestrictedToken = false, UseExistingLogin = false, UseLegacyConsole = false }));
}
