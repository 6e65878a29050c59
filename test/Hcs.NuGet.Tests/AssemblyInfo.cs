// Copyright (c) hcs contributors. Licensed under the MIT licence.

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
