// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Schema;

/// <summary>Schema <c>ProcessParameters</c>: the document of <c>HcsCreateProcess</c>.</summary>
public sealed record ProcessParameters
{
    /// <summary>Executable.</summary>
    public string? ApplicationName { get; init; }

    /// <summary>Command line.</summary>
    public string? CommandLine { get; init; }

    /// <summary>Argument vector (Linux guests).</summary>
    public IReadOnlyList<string>? CommandArgs { get; init; }

    /// <summary>User to run as.</summary>
    public string? User { get; init; }

    /// <summary>Working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment variables.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>Run with a restricted token.</summary>
    public bool? RestrictedToken { get; init; }

    /// <summary>Allocate a console (TTY); the stderr pipe is then ignored.</summary>
    public bool? EmulateConsole { get; init; }

    /// <summary>Create a stdin pipe.</summary>
    public bool? CreateStdInPipe { get; init; }

    /// <summary>Create a stdout pipe.</summary>
    public bool? CreateStdOutPipe { get; init; }

    /// <summary>Create a stderr pipe.</summary>
    public bool? CreateStdErrPipe { get; init; }

    /// <summary>Console size as [height, width].</summary>
    public IReadOnlyList<ushort>? ConsoleSize { get; init; }

    /// <summary>Use the existing login session.</summary>
    public bool? UseExistingLogin { get; init; }

    /// <summary>Use the legacy console.</summary>
    public bool? UseLegacyConsole { get; init; }
}
