// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Xunit;

namespace Hcs.Ctl.Tests;

/// <summary>Help, usage errors, the one-line error format, connection failures and the argument parser.</summary>
public sealed class CommandLineTests : IAsyncLifetime
{
    private readonly CtlHarness _ctl = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _ctl.DisposeAsync();

    public static TheoryData<string> VerbNames() => [.. Verbs.All.Select(v => v.Name)];

    [Theory]
    [MemberData(nameof(VerbNames))]
    public async Task EveryVerb_HasHelp_WithLongAndShortOption_AndThroughHelpVerb(string verb)
    {
        foreach (var args in new[] { new[] { verb, "--help" }, [verb, "-h"], ["help", verb], [verb, "some-id", "--help"] })
        {
            var result = await _ctl.RunAsync(args);
            Assert.True(result.ExitCode == 0 && result.Error.Length == 0, result.ToString());
            Assert.StartsWith($"Usage: hcsctl {verb}", result.Out, StringComparison.Ordinal);
            Assert.Contains("--socket PATH", result.Out, StringComparison.Ordinal);
            Assert.Contains("Examples:", result.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GeneralHelp_ListsEveryVerb_AndTheExitCodes()
    {
        foreach (var flag in new[] { "--help", "-h", "help" })
        {
            var result = await _ctl.RunAsync(flag);
            Assert.Equal(0, result.ExitCode);
            foreach (var verb in Verbs.All)
            {
                Assert.Contains($"\n  {verb.Name} ", result.Out, StringComparison.Ordinal);
            }

            Assert.Contains("Exit codes:", result.Out, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Version_PrintsTheVersionFile_AndTheCommit()
    {
        var version = File.ReadAllText(Repository.Path("VERSION")).Trim();
        var result = await _ctl.RunAsync("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches($@"^hcsctl {System.Text.RegularExpressions.Regex.Escape(version)}( \(commit [0-9a-f]{{40}}\))?\n$", result.Out);
    }

    [Fact]
    public async Task UsageErrors_AreExitCode2_WithOneLineThenTheUsage()
    {
        var none = await _ctl.RunAsync([]);
        Assert.Equal(2, none.ExitCode);
        Assert.StartsWith("Usage: hcsctl", none.Error, StringComparison.Ordinal);

        var unknownVerb = await _ctl.RunAsync("frobnicate");
        Assert.Equal(2, unknownVerb.ExitCode);
        Assert.StartsWith("hcsctl: unknown verb 'frobnicate'\nUsage: hcsctl", unknownVerb.Error, StringComparison.Ordinal);

        var missing = await _ctl.RunAsync("start");
        Assert.Equal(2, missing.ExitCode);
        Assert.Equal("hcsctl: start: missing ID\nUsage: hcsctl start ID...\nRun 'hcsctl start --help' for more.\n", missing.Error);

        var extra = await _ctl.RunAsync("inspect", "a", "b");
        Assert.Equal(2, extra.ExitCode);
        Assert.StartsWith("hcsctl: inspect: unexpected argument 'b'\n", extra.Error, StringComparison.Ordinal);

        var option = await _ctl.RunAsync("list", "--frob");
        Assert.Equal(2, option.ExitCode);
        Assert.StartsWith("hcsctl: list: unknown option '--frob'\nUsage: hcsctl list", option.Error, StringComparison.Ordinal);

        var value = await _ctl.RunAsync("shutdown", "vm1", "--timeout", "soon");
        Assert.Equal(2, value.ExitCode);
        Assert.StartsWith("hcsctl: shutdown: option '--timeout': 'soon' is not a duration", value.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownId_IsOneLineWithTheHResultName_AndExitCode1()
    {
        var result = await _ctl.RunAsync("start", "nope");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Equal("hcsctl: start nope: HCS_E_SYSTEM_NOT_FOUND (0x8037010E): A virtual machine or container with the specified identifier does not exist.\n", result.Error);
    }

    [Fact]
    public async Task MalformedDocument_IsInvalidJson_NamingTheJsonPathAndTheFile()
    {
        var path = _ctl.File("bad.json", """{"Owner":"tests","Container":{"Storage":{"Path":"/scratch"}},"Bogus":true}""");
        var result = await _ctl.RunAsync("create", "c1", path);
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("hcsctl: create c1: HCS_E_INVALID_JSON (0x", line, StringComparison.Ordinal);
        Assert.Contains("$.Bogus", line, StringComparison.Ordinal);
        Assert.EndsWith($"(in {path})", line, StringComparison.Ordinal);

        var syntax = await _ctl.RunWithInputAsync("{\"Owner\": ", "create", "c1", "-");
        Assert.Equal(1, syntax.ExitCode);
        Assert.StartsWith("hcsctl: create c1: HCS_E_INVALID_JSON (0x", syntax.Error, StringComparison.Ordinal);
        Assert.EndsWith("(in the document from standard input)\n", syntax.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreadableFile_IsExitCode1_NamingIt()
    {
        var result = await _ctl.RunAsync("create", "c1", "/nonexistent/c1.json");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("hcsctl: create c1: cannot read /nonexistent/c1.json: ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoDaemon_IsExitCode3_WithAHint()
    {
        var socket = Path.Combine(_ctl.TempDirectory, "no-hcsd.sock");
        using var output = new StringWriter();
        using var error = new StringWriter();
        HcsConnectOptions? asked = null;
        var code = await HcsCtl.RunAsync(["--socket", socket, "list"], TextReader.Null, output, error, options =>
        {
            asked = options;
            return HcsClient.Connect(options);
        });
        Assert.Equal(3, code);
        Assert.Equal(HcsServiceMode.Daemon, asked!.Mode);
        Assert.Equal(socket, asked.ResolveSocket());
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("hcsctl: list: HCS_E_SERVICE_DISCONNECT (0x8037011E): ", line, StringComparison.Ordinal);
        Assert.Contains(socket, line, StringComparison.Ordinal);
        Assert.EndsWith("--embedded runs an engine inside hcsctl instead)", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Embedded_AsksForAnEmbeddedEngine_EvenAfterTheVerb()
    {
        HcsConnectOptions? asked = null;
        var code = await HcsCtl.RunAsync(["service", "--embedded"], TextReader.Null, TextWriter.Null, TextWriter.Null, options =>
        {
            asked = options;
            return HcsClient.Connect(_ctl.Service);
        });
        Assert.Equal(0, code);
        Assert.Equal(HcsServiceMode.Embedded, asked!.Mode);
    }

    [Fact]
    public async Task Spinner_IsDrawnOnlyWhenStderrIsATerminal_AndErased()
    {
        await _ctl.ContainerAsync("c1", start: false);
        _ctl.Terminal = new FakeTerminal();
        var result = await _ctl.RunAsync("start", "c1");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("\r| starting c1… 0s", result.Error, StringComparison.Ordinal);
        Assert.EndsWith("\r\u001b[K", result.Error, StringComparison.Ordinal);

        _ctl.Terminal = new FakeTerminal { ErrorIsTerminal = false };
        Assert.Equal("", (await _ctl.RunAsync("shutdown", "c1")).Error);
    }

    [Fact]
    public async Task Interrupt_StopsAWait_WithExitCode130_AndRepeatsAreHarmless()
    {
        _ctl.Fake.Script("hangs", new Backends.Fake.FakeScript { HangStart = true });
        await _ctl.OkAsync("create", "hangs", _ctl.File("vm.json", CtlHarness.VmDocument()));
        var interrupts = new FakeInterrupts();
        _ctl.Interrupts = interrupts;
        var run = _ctl.RunAsync("start", "hangs");
        await interrupts.WaitForListenerAsync();
        interrupts.Fire();
        interrupts.Fire();
        var result = await run;
        Assert.Equal(130, result.ExitCode);
        Assert.Equal("hcsctl: start hangs: interrupted\n", result.Error);
        Assert.Equal(0, interrupts.Listeners);
    }

    [Fact]
    public async Task Interrupt_DuringExec_IsSentToTheProcessAsSigint()
    {
        await _ctl.ContainerAsync("c1");
        var interrupts = new FakeInterrupts();
        _ctl.Interrupts = interrupts;
        var run = _ctl.RunAsync("exec", "c1", "sleep", "30");
        await interrupts.WaitForListenerAsync();
        interrupts.Fire();
        var result = await run;
        Assert.Equal(130, result.ExitCode); // the process's own code: 128 + SIGINT
        Assert.Equal([2], _ctl.Fake.Get("c1").Processes[0].Signals);
    }

    [Fact]
    public async Task ManyIds_AreAccepted_ByVariadicVerbs()
    {
        var result = await _ctl.RunAsync("events", "--timeout", "10ms", "a", "b");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(2, result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Parser_BundlesShortFlags_TakesInlineValues_AndStopsAtTheCommand()
    {
        OptionSpec[] options = [new("interactive", 'i', null, ""), new("tty", 't', null, ""), new("env", 'e', "K=V", "", Repeatable: true), new("cwd", 'w', "DIR", "")];
        var parsed = ArgParser.Parse(["-it", "-eA=1", "--env", "B=2", "--cwd=/tmp", "c1", "ls", "-l", "--", "x"], options, commandAfter: 1);
        Assert.True(parsed.Has("interactive") && parsed.Has("tty"));
        Assert.Equal(["A=1", "B=2"], parsed.Values("env"));
        Assert.Equal("/tmp", parsed.Value("cwd"));
        Assert.Equal(["c1"], parsed.Positionals);
        Assert.Equal(["ls", "-l", "--", "x"], parsed.Command);

        var dashed = ArgParser.Parse(["--", "-weird-id", "-"], options);
        Assert.Equal(["-weird-id", "-"], dashed.Positionals);

        Assert.Throws<UsageException>(() => ArgParser.Parse(["-x"], options));
        Assert.Throws<UsageException>(() => ArgParser.Parse(["--cwd"], options));
        Assert.Throws<UsageException>(() => ArgParser.Parse(["--tty=yes"], options));
    }

    [Theory]
    [InlineData("30", 30)]
    [InlineData("1.5", 1.5)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    public void Durations_AreSecondsOrHaveAUnit(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), ArgParser.ParseDuration(text, "timeout"));
}
