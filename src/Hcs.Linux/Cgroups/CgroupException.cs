// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Linux.Cgroups;

/// <summary>Why the host refused a change to a cgroup.</summary>
public enum CgroupErrorKind
{
    /// <summary>Any other refusal by the kernel (its reason is in the message).</summary>
    Failed,

    /// <summary>The hierarchy is not writable: not root, or no delegation.</summary>
    AccessDenied,

    /// <summary>The controller lacks an interface file (e.g. a kernel without CFS bandwidth control).</summary>
    NotSupported,

    /// <summary>A cgroup that was to be created new already exists and holds processes.</summary>
    Busy,
}

/// <summary>
/// A cgroup could not be created or written. <see cref="Exception.Message"/> reads <c>could not ACTION: REASON</c>
/// (or, for <see cref="CgroupErrorKind.Busy"/>, <c>cgroup DIR already exists and holds process PID</c>), so a caller
/// can prefix what the cgroup was for.
/// </summary>
public sealed class CgroupException : IOException
{
    /// <summary>Creates the exception.</summary>
    public CgroupException(CgroupErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    /// <summary>Creates a <see cref="CgroupErrorKind.Failed"/> exception.</summary>
    public CgroupException()
        : this(CgroupErrorKind.Failed, "a cgroup operation failed")
    {
    }

    /// <summary>Creates a <see cref="CgroupErrorKind.Failed"/> exception.</summary>
    public CgroupException(string message)
        : this(CgroupErrorKind.Failed, message)
    {
    }

    /// <summary>Creates a <see cref="CgroupErrorKind.Failed"/> exception.</summary>
    public CgroupException(string message, Exception inner)
        : this(CgroupErrorKind.Failed, message, inner)
    {
    }

    /// <summary>What kind of refusal this is.</summary>
    public CgroupErrorKind Kind { get; }
}
