// Copyright (c) hcs contributors. Licensed under the MIT licence.

using Hcs.Client;
using Hcs.Ctl;
using Microsoft.Win32.SafeHandles;

// hcsctl: the process's console around HcsCtl.RunAsync, which does everything else.
using var interrupts = new SignalInterrupts();

// Standard input as bytes straight from fd 0: Console.OpenStandardInput() on a terminal reads through .NET's line
// editor, which would undo `exec -t`'s raw mode.
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
return await HcsCtl.RunAsync(args, console, options => HcsClient.Connect(options)).ConfigureAwait(false);
