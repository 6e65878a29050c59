// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Reflection;
using System.Text;
using Hcs.Client;
using Hcs.Host;
using Hcs.Schema;
using Microsoft.Win32.SafeHandles;

namespace Hcs.Ctl;

/// <summary>
/// <c>hcsctl</c>, the command-line client of the Host Compute Service, as a library: <see cref="RunAsync(IReadOnlyList{string}, HcsCtlConsole, Func{HcsConnectOptions, HcsClient}, CancellationToken)"/>
/// parses the command line, connects through the given function and runs one verb, so tests run it in-process against
/// any service (an engine over the fake backend, real runc, or <c>hcsd</c> over its socket).
/// </summary>
public static class HcsCtl
{
    internal static readonly OptionSpec SocketOption = new("socket", null, "PATH", $"hcsd's socket (default: ${HcsConnectOptions.SocketVariable}, else {HcsConnectOptions.DefaultSocket})");
    internal static readonly OptionSpec EmbeddedOption = new("embedded", null, null, "run an engine inside hcsctl instead of using hcsd (its systems end when hcsctl exits)");
    internal static readonly OptionSpec HelpOption = new("help", 'h', null, "show this help");
    internal static readonly OptionSpec VersionOption = new("version", null, null, "show hcsctl's version");

    internal static readonly OptionSpec[] VerbGlobals = [SocketOption, EmbeddedOption, HelpOption];

    /// <summary>Runs hcsctl over text streams (no terminal, no raw stdio, no interrupts).</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="stdin">Standard input.</param>
    /// <param name="stdout">Standard output.</param>
    /// <param name="stderr">Standard error.</param>
    /// <param name="connect">Makes the client from the connection options the command line asked for.</param>
    /// <param name="cancellationToken">Stops waiting, as an interrupt would.</param>
    /// <returns>The exit code (<see cref="HcsCtlExitCodes"/>; the process's exit code for <c>exec</c>).</returns>
    public static Task<int> RunAsync(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        Func<HcsConnectOptions, HcsClient> connect, CancellationToken cancellationToken = default) =>
        RunAsync(args, new HcsCtlConsole { In = stdin, Out = stdout, Error = stderr }, connect, cancellationToken);

    /// <summary>Runs hcsctl with <paramref name="args"/> on <paramref name="console"/>; returns the exit code.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="console">Standard streams, terminal and interrupts.</param>
    /// <param name="connect">
    /// Makes the client from the connection options the command line asked for: <see cref="HcsServiceMode.Daemon"/>
    /// with the socket of <c>--socket</c> (or null), or <see cref="HcsServiceMode.Embedded"/> for <c>--embedded</c>
    /// (an engine with <see cref="EmbeddedHcs.DefaultSettings"/>, whose empty runtime directories are removed at the end).
    /// Called at most once, only for verbs that use the service; the client is disposed before this returns.
    /// </param>
    /// <param name="cancellationToken">Stops waiting, as an interrupt would.</param>
    /// <returns>The exit code (<see cref="HcsCtlExitCodes"/>; the process's exit code for <c>exec</c>).</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, HcsCtlConsole console, Func<HcsConnectOptions, HcsClient> connect,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(connect);

        // Global options come before the verb (and are accepted among the verb's options too).
        string? socket = null;
        var embedded = false;
        var i = 0;
        for (; i < args.Count && args[i].StartsWith('-') && args[i] != "-"; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                await console.Out.WriteAsync(GeneralHelp().AsMemory(), cancellationToken).ConfigureAwait(false);
                return HcsCtlExitCodes.Success;
            }

            if (arg == "--version")
            {
                await console.Out.WriteLineAsync(HcsVersion.Describe("hcsctl").AsMemory(), cancellationToken).ConfigureAwait(false);
                return HcsCtlExitCodes.Success;
            }

            if (arg == "--embedded")
            {
                embedded = true;
            }
            else if (arg == "--socket" && i + 1 < args.Count)
            {
                socket = args[++i];
            }
            else if (arg.StartsWith("--socket=", StringComparison.Ordinal))
            {
                socket = arg["--socket=".Length..];
            }
            else
            {
                await console.Error.WriteLineAsync((arg == "--socket" ? "hcsctl: option '--socket' needs a value" : $"hcsctl: unknown option '{arg}'").AsMemory(), cancellationToken).ConfigureAwait(false);
                await console.Error.WriteAsync(ShortUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
                return HcsCtlExitCodes.Usage;
            }
        }

        if (i == args.Count)
        {
            await console.Error.WriteAsync(ShortUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
            return HcsCtlExitCodes.Usage;
        }

        var name = args[i];
        var rest = args.Skip(i + 1).ToList();
        if (name == "help")
        {
            return await HelpAsync(console, rest, cancellationToken).ConfigureAwait(false);
        }

        if (name == Completion.VerbName)
        {
            return await CompletionAsync(console, rest, cancellationToken).ConfigureAwait(false);
        }

        var verb = Verbs.Find(name);
        if (verb is null)
        {
            await console.Error.WriteLineAsync($"hcsctl: unknown verb '{name}'".AsMemory(), cancellationToken).ConfigureAwait(false);
            await console.Error.WriteAsync(ShortUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
            return HcsCtlExitCodes.Usage;
        }

        ParsedArgs parsed;
        try
        {
            parsed = ArgParser.Parse(rest, [.. verb.Options, .. VerbGlobals], verb.CommandAfter);
            if (parsed.Has(HelpOption.Name))
            {
                await console.Out.WriteAsync(verb.Help(VerbGlobals).AsMemory(), cancellationToken).ConfigureAwait(false);
                return HcsCtlExitCodes.Success;
            }

            CheckArity(verb, parsed);
        }
        catch (UsageException e)
        {
            return await UsageErrorAsync(console, verb, e.Message, cancellationToken).ConfigureAwait(false);
        }

        embedded |= parsed.Has(EmbeddedOption.Name);
        socket = parsed.Value(SocketOption.Name) ?? socket;

        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Ctrl-C stops the wait. Later ones are swallowed until hcsctl is done: dying half-way would leave an embedded
        // engine's systems (processes, mounts) behind, and `timeout -s INT` signals both the process and its group.
        // A verb that handles interrupts (exec) registers its own action; this one only keeps them from killing hcsctl.
        using var registration = console.Interrupts?.Register(verb.HandlesInterrupts ? static () => { } : interrupted.Cancel);
        HcsClient? client = null;
        HostSettings? embeddedSettings = null;
        if (verb.NeedsService)
        {
            try
            {
                embeddedSettings = embedded ? EmbeddedHcs.DefaultSettings() : null;
                client = connect(new HcsConnectOptions
                {
                    Socket = socket,
                    Mode = embedded ? HcsServiceMode.Embedded : HcsServiceMode.Daemon,
                    ClientName = "hcsctl",
                });
            }
            catch (HcsException e)
            {
                var note = embedded ? null : VerbContext.ServiceHint;
                await console.Error.WriteLineAsync(ErrorLines.Format(verb.Name, null, e, note).AsMemory(), cancellationToken).ConfigureAwait(false);
                return ErrorLines.ExitCode(e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException or ArgumentException)
            {
                await console.Error.WriteLineAsync(ErrorLines.Format(verb.Name, null, $"cannot start the embedded engine: {e.Message}").AsMemory(), cancellationToken).ConfigureAwait(false);
                return HcsCtlExitCodes.Failed;
            }
        }

        try
        {
            var context = new VerbContext
            {
                Verb = verb,
                Args = parsed,
                Console = console,
                Client = client,
                Embedded = embedded,
                Cancellation = interrupted.Token,
            };
            try
            {
                return await verb.Run(context).ConfigureAwait(false);
            }
            catch (UsageException e)
            {
                return await UsageErrorAsync(console, verb, e.Message, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                return context.Report(parsed.Positionals.FirstOrDefault(), e);
            }
            finally
            {
                await console.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            if (embeddedSettings is not null)
            {
                RemoveEmptyDirectories(embeddedSettings.RuntimeRoot);
            }
        }
    }

    /// <summary>
    /// Runs hcsctl on this process's console: standard streams (and their raw bytes for <c>exec</c>), the terminal
    /// if there is one, and Ctrl-C as interrupts. This is all <c>hcsctl</c>'s <c>Main</c> does.
    /// </summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="connect">Makes the client from the connection options the command line asked for.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunOnConsoleAsync(IReadOnlyList<string> args, Func<HcsConnectOptions, HcsClient> connect)
    {
        using var interrupts = new SignalInterrupts();

        // Standard input as bytes straight from fd 0: Console.OpenStandardInput() on a terminal reads through .NET's
        // line editor, which would undo `exec -it`'s raw mode.
        using var rawIn = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, bufferSize: 0);
        using var rawOut = Console.OpenStandardOutput();
        using var rawError = Console.OpenStandardError();
        var console = new HcsCtlConsole
        {
            In = Console.In,
            Out = Console.Out,
            Error = Console.Error,
            RawIn = rawIn,
            RawOut = rawOut,
            RawError = rawError,
            Terminal = StandardTerminal.Detect(),
            Interrupts = interrupts,
        };
        return await RunAsync(args, console, connect).ConfigureAwait(false);
    }

    /// <summary>hcsctl's version: hcs's one version (<see cref="HcsVersion.Number"/>, from <c>VERSION</c>).</summary>
    public static string Version => HcsVersion.Number;

    /// <summary>
    /// Removes the embedded engine's runtime directory when nothing is left in it but empty directories (the backends
    /// make their roots and leave them). Never removes a file: whatever a backend left behind stays for inspection.
    /// </summary>
    private static void RemoveEmptyDirectories(string root)
    {
        try
        {
            foreach (var directory in Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length).Append(root))
            {
                if (!Directory.EnumerateFileSystemEntries(directory).Any())
                {
                    Directory.Delete(directory);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to insist on.
        }
    }

    private static void CheckArity(Verb verb, ParsedArgs parsed)
    {
        var count = parsed.Positionals.Count;
        if (verb.CommandAfter is { } n)
        {
            if (count < n)
            {
                throw new UsageException($"missing {verb.Arguments[count]}");
            }

            if (parsed.Command.Count == 0)
            {
                throw new UsageException("missing the command to run");
            }

            return;
        }

        if (count < verb.RequiredArguments)
        {
            throw new UsageException($"missing {verb.Arguments[count].TrimEnd('.')}");
        }

        if (!verb.Variadic && count > verb.Arguments.Length)
        {
            throw new UsageException($"unexpected argument '{parsed.Positionals[verb.Arguments.Length]}'");
        }
    }

    private static async Task<int> UsageErrorAsync(HcsCtlConsole console, Verb verb, string message, CancellationToken cancellationToken)
    {
        await console.Error.WriteLineAsync(ErrorLines.Format(verb.Name, null, message).AsMemory(), cancellationToken).ConfigureAwait(false);
        await console.Error.WriteAsync(verb.Usage.AsMemory(), cancellationToken).ConfigureAwait(false);
        return HcsCtlExitCodes.Usage;
    }

    private static async Task<int> HelpAsync(HcsCtlConsole console, List<string> rest, CancellationToken cancellationToken)
    {
        if (rest.Count == 0)
        {
            await console.Out.WriteAsync(GeneralHelp().AsMemory(), cancellationToken).ConfigureAwait(false);
            return HcsCtlExitCodes.Success;
        }

        if (Verbs.Find(rest[0]) is { } verb)
        {
            await console.Out.WriteAsync(verb.Help(VerbGlobals).AsMemory(), cancellationToken).ConfigureAwait(false);
            return HcsCtlExitCodes.Success;
        }

        await console.Error.WriteLineAsync($"hcsctl: help: unknown verb '{rest[0]}'".AsMemory(), cancellationToken).ConfigureAwait(false);
        await console.Error.WriteAsync(ShortUsage.AsMemory(), cancellationToken).ConfigureAwait(false);
        return HcsCtlExitCodes.Usage;
    }

    // The hidden verb: `hcsctl completion bash` prints the completion script (the package installs it).
    private static async Task<int> CompletionAsync(HcsCtlConsole console, List<string> rest, CancellationToken cancellationToken)
    {
        if (rest is not [var shell] || !Completion.Shells.Contains(shell, StringComparer.Ordinal))
        {
            await console.Error.WriteLineAsync($"hcsctl: completion: name the shell: {string.Join(", ", Completion.Shells)}".AsMemory(), cancellationToken).ConfigureAwait(false);
            await console.Error.WriteAsync("Usage: hcsctl completion bash\n".AsMemory(), cancellationToken).ConfigureAwait(false);
            return HcsCtlExitCodes.Usage;
        }

        await console.Out.WriteAsync(Completion.Script(Version).AsMemory(), cancellationToken).ConfigureAwait(false);
        return HcsCtlExitCodes.Success;
    }

    private const string ShortUsage = "Usage: hcsctl [--socket PATH] [--embedded] VERB [OPTIONS] [ARGS]\nRun 'hcsctl --help' for the verbs.\n";

    internal static string GeneralHelp()
    {
        var text = new StringBuilder();
        text.AppendLine("Usage: hcsctl [--socket PATH] [--embedded] VERB [OPTIONS] [ARGS]")
            .AppendLine()
            .AppendLine("Drives the compute systems (virtual machines and containers) of hcs, the Host Compute Service for Linux,")
            .AppendLine("through hcsd. Documents are HCS schema v2 JSON; errors name the HRESULT.")
            .AppendLine()
            .AppendLine("Verbs:");
        var width = Verbs.All.Max(v => v.Name.Length);
        foreach (var verb in Verbs.All)
        {
            text.Append("  ").Append(verb.Name.PadRight(width)).Append("  ").AppendLine(verb.Summary);
        }

        Verb.AppendOptions(text, "Global options:", [SocketOption, EmbeddedOption, HelpOption, VersionOption]);
        text.AppendLine()
            .AppendLine("Exit codes: 0 done; 1 the service refused or failed a call (the error line names the HRESULT);")
            .AppendLine("2 usage error; 3 hcsd not reachable or gone; 130 interrupted. exec exits with the process's exit code,")
            .AppendLine("or 125 when hcsctl could not run the process.")
            .AppendLine()
            .AppendLine("Run 'hcsctl VERB --help' for a verb's options and examples.");
        return text.ToString();
    }
}
