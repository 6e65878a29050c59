// Copyright (c) hcs contributors. Licensed under the MIT licence.

// hcsctl talks to hcs on Linux (signals such as SIGWINCH, the embedded engine's backends).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
