// Copyright (c) hcs contributors. Licensed under the MIT licence.

// The container benchmarks drive runc, mount and cgroups: Linux only (as the backends are).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
