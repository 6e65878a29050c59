// Copyright (c) hcs contributors. Licensed under the MIT licence.

namespace Hcs.Client;

/// <summary><c>HCS_PROCESS_INFORMATION</c>: the process id and the host ends of its stdio (null when not created).</summary>
/// <param name="ProcessId">The process id.</param>
/// <param name="StdInput">Writable stdin stream.</param>
/// <param name="StdOutput">Readable stdout stream.</param>
/// <param name="StdError">Readable stderr stream.</param>
public sealed record HcsProcessInformation(uint ProcessId, Stream? StdInput, Stream? StdOutput, Stream? StdError);
