// Copyright (c) hcs contributors. Licensed under the MIT licence.

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Hcs.Ctl;

/// <summary>
/// The terminal of the hcsctl process. Raw mode is set and restored with <c>stty</c> (a fixed argument list, no
/// shell) on the inherited standard input, because hcs declares no P/Invokes outside <c>hcs-shim</c>; resizes come
/// from SIGWINCH.
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

    public (ushort Rows, ushort Columns)? Size
    {
        get
        {
            try
            {
                var (rows, columns) = (Console.WindowHeight, Console.WindowWidth);
                return rows > 0 && columns > 0 ? ((ushort)Math.Min(rows, ushort.MaxValue), (ushort)Math.Min(columns, ushort.MaxValue)) : null;
            }
            catch (Exception e) when (e is IOException or PlatformNotSupportedException)
            {
                return null;
            }
        }
    }

    public IDisposable EnterRawMode()
    {
        var saved = Stty("-g")?.Trim();
        if (saved is null || Stty("raw", "-echo") is null)
        {
            return new Restore(null);
        }

        return new Restore(saved);
    }

    public IDisposable OnResize(Action onResize) => PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => onResize());

    /// <summary>Runs <c>stty ARGS</c> on our standard input; returns its output, or null if it failed.</summary>
    private static string? Stty(params string[] args)
    {
        var start = new ProcessStartInfo("stty") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // No stty: the terminal stays as it is.
        }
    }

    private sealed class Restore(string? saved) : IDisposable
    {
        public void Dispose()
        {
            if (saved is not null)
            {
                Stty(saved);
            }
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
