// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Ctl;

/// <summary>
/// What an <c>hcsctl</c> invocation reads and writes: text streams for documents, tables and errors, optional raw byte
/// streams for <c>exec</c>'s stdio, and the terminal (if any). <c>Program</c> builds one over the process's console;
/// tests build one over strings.
/// </summary>
public sealed class HcsCtlConsole
{
    /// <summary>Standard input as text (documents given as <c>-</c>; <c>exec -i</c> when <see cref="RawIn"/> is null).</summary>
    public required TextReader In { get; init; }

    /// <summary>Standard output as text (results, tables, JSON; <c>exec</c> output when <see cref="RawOut"/> is null).</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error as text (error lines, usage, progress; <c>exec</c> stderr when <see cref="RawError"/> is null).</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Standard input as bytes, for <c>exec -i</c>; null = read <see cref="In"/>.</summary>
    public Stream? RawIn { get; init; }

    /// <summary>Standard output as bytes, for <c>exec</c>; null = decode UTF-8 into <see cref="Out"/>.</summary>
    public Stream? RawOut { get; init; }

    /// <summary>Standard error as bytes, for <c>exec</c>; null = decode UTF-8 into <see cref="Error"/>.</summary>
    public Stream? RawError { get; init; }

    /// <summary>The controlling terminal, or null when none of the standard streams is one (pipes, tests).</summary>
    public IHcsCtlTerminal? Terminal { get; init; }

    /// <summary>The clock of event time stamps and progress animation.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// Interrupt requests (Ctrl-C): <c>exec</c> forwards each one to the process as SIGINT; other verbs stop waiting
    /// and exit with <see cref="HcsCtlExitCodes.Interrupted"/>. Null = never interrupted.
    /// </summary>
    public IHcsCtlInterrupts? Interrupts { get; init; }

    /// <summary>Called with a system id once <c>events</c> has subscribed to it (a test seam: events raised afterwards are printed).</summary>
    internal Action<string>? EventsSubscribed { get; init; }
}

/// <summary>The terminal hcsctl runs in: which standard streams are a terminal, its size, raw mode and resizes.</summary>
public interface IHcsCtlTerminal
{
    /// <summary>Standard input is a terminal.</summary>
    bool InputIsTerminal { get; }

    /// <summary>Standard output is a terminal.</summary>
    bool OutputIsTerminal { get; }

    /// <summary>Standard error is a terminal (progress spinners are drawn only then).</summary>
    bool ErrorIsTerminal { get; }

    /// <summary>The window size (rows, columns), or null when unknown.</summary>
    (ushort Rows, ushort Columns)? Size { get; }

    /// <summary>Puts the terminal in raw mode (no echo, no line editing, no signal keys) until the result is disposed.</summary>
    IDisposable EnterRawMode();

    /// <summary>Calls <paramref name="onResize"/> whenever the window size changes (SIGWINCH), until the result is disposed.</summary>
    IDisposable OnResize(Action onResize);
}

/// <summary>A source of interrupt requests (Ctrl-C, SIGTERM).</summary>
public interface IHcsCtlInterrupts
{
    /// <summary>Calls <paramref name="onInterrupt"/> on every interrupt until the result is disposed.</summary>
    IDisposable Register(Action onInterrupt);
}
