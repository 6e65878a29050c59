// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Runtime.InteropServices;
using Hcs.Linux;

namespace Hcs.Ctl;

/// <summary>
/// The terminal of the hcsctl process, through termios (<see cref="Terminal"/>): raw mode on standard input, restored
/// when the verb ends or the process exits; the size from <c>TIOCGWINSZ</c>; resizes from SIGWINCH.
/// </summary>
internal sealed class StandardTerminal : IHcsCtlTerminal
{
    private StandardTerminal()
    {
    }

    /// <summary>The terminal, or null when no standard stream is one.</summary>
    public static StandardTerminal? Detect() =>
        Console.IsInputRedirected && Console.IsOutputRedirected && Console.IsErrorRedirected ? null : new StandardTerminal();

    public bool InputIsTerminal => !Console.IsInputRedirected;

    public bool OutputIsTerminal => !Console.IsOutputRedirected;

    public bool ErrorIsTerminal => !Console.IsErrorRedirected;

    public (ushort Rows, ushort Columns)? Size =>
        Terminal.Size(Terminal.StandardOutput) ?? Terminal.Size(Terminal.StandardInput) ?? Terminal.Size(Terminal.StandardError);

    public IDisposable EnterRawMode() => Terminal.EnterRawMode(Terminal.StandardInput) ?? new NothingToRestore();

    public IDisposable OnResize(Action onResize) => PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => onResize());

    /// <summary>Standard input is not a terminal (or refused raw mode): it stays as it is.</summary>
    private sealed class NothingToRestore : IDisposable
    {
        public void Dispose()
        {
        }
    }
}

/// <summary>Ctrl-C (SIGINT) as interrupt requests: while something is registered, SIGINT does not end hcsctl.</summary>
internal sealed class SignalInterrupts : IHcsCtlInterrupts, IDisposable
{
    private readonly Lock _gate = new();
    private readonly List<Action> _actions = []; // guarded by _gate
    private readonly PosixSignalRegistration _registration;

    public SignalInterrupts()
    {
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    }

    public IDisposable Register(Action onInterrupt)
    {
        lock (_gate)
        {
            _actions.Add(onInterrupt);
        }

        return new Registration(this, onInterrupt);
    }

    private void OnSignal(PosixSignalContext context)
    {
        Action[] actions;
        lock (_gate)
        {
            actions = [.. _actions];
        }

        // Nobody listening (before a verb runs, or after it is done): the default, hcsctl ends.
        context.Cancel = actions.Length > 0;
        foreach (var action in actions)
        {
            action();
        }
    }

    public void Dispose() => _registration.Dispose();

    private sealed class Registration(SignalInterrupts owner, Action action) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._gate)
            {
                owner._actions.Remove(action);
            }
        }
    }
}
