// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Backends.Qemu;

/// <summary>QEMU answered a command with an error (<c>{"error":{"class","desc"}}</c>).</summary>
public sealed class QmpErrorException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QmpErrorException(string errorClass, string description)
        : base($"QMP error {errorClass}: {description}")
    {
        ErrorClass = errorClass;
        Description = description;
    }

    /// <summary>The error class (e.g. <c>GenericError</c>, <c>CommandNotFound</c>). Match on this, never on the description.</summary>
    public string ErrorClass { get; }

    /// <summary>QEMU's human-readable description.</summary>
    public string Description { get; }
}

/// <summary>The QMP connection ended before the reply.</summary>
public sealed class QmpDisconnectedException(string message) : Exception(message);

/// <summary>The peer does not speak QMP.</summary>
public sealed class QmpProtocolException(string message, Exception inner) : Exception(message, inner);
