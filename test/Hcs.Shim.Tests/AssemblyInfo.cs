// Copyright (c) hcs contributors. Licensed under the MIT licence.

global using Xunit;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
